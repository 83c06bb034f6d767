"""
complete_streaming_example.py
A fully executable example of streaming with the Claude API.
Usage:
export ANTHROPIC_API_KEY="sk-ant-..."
python complete_streaming_example.py
"""
import os
import sys
import claudewire as anthropic

def main():
    # Load the API key from the environment — never hardcode it.
    api_key = os.environ.get("ANTHROPIC_API_KEY")
    if not api_key:
        print("Error: ANTHROPIC_API_KEY environment variable not set.")
        print("Set it with: export ANTHROPIC_API_KEY='sk-ant-...'")
        sys.exit(1)

    client = anthropic.Anthropic(api_key=api_key)
    prompt = "Write a short poem about a developer who finally fixed a bug after three days."

    print("Streaming response:\n")
    try:
        with client.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=300,
            messages=[{"role": "user", "content": prompt}],
        ) as stream:
            for text_delta in stream.text_stream:
                print(text_delta, end="", flush=True)

            # After the stream completes, the final message is available.
            final = stream.get_final_message()
            print(f"\n---\nStop reason: {final.stop_reason}")
            print(f"Input tokens: {final.usage.input_tokens}")
            print(f"Output tokens: {final.usage.output_tokens}")
    except anthropic.APIStatusError as e:
        print(f"\nAPI error: {e.status_code} - {e.message}")
        sys.exit(1)
    except Exception as e:
        print(f"\nUnexpected error: {e}")
        sys.exit(1)

if __name__ == "__main__":
    main()
