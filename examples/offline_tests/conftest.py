pytest_plugins = ["claudewire.pytest_plugin"]
