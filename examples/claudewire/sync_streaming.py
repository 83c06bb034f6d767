import claudewire as anthropic

client = anthropic.Anthropic()

with client.messages.stream(
    model="claude-sonnet-4-6",
    max_tokens=256,
    messages=[{"role": "user", "content": "Tell me a short story about a robot."}],
) as stream:
    for text in stream.text_stream:
        print(text, end="", flush=True)
