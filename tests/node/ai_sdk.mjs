// Vercel's AI SDK (@ai-sdk/anthropic) against the server at $BASE_URL/v1; prints one JSON report.
// It checks every streamed event against a strict schema, so any drift in the wire shows here.
import { createAnthropic } from '@ai-sdk/anthropic';
import { generateText, jsonSchema, streamText, tool } from 'ai';

const anthropic = createAnthropic({ baseURL: `${process.env.BASE_URL}/v1`, apiKey: 'sk-ant-node' });
const report = { errors: [] };

const streamed = streamText({ model: anthropic('claude-sonnet-4-6'), prompt: 'Hello from the AI SDK', onError: ({ error }) => report.errors.push(String(error)) });
let text = '';
for await (const t of streamed.textStream) text += t;
report.stream = { text, finish: await streamed.finishReason, usage: await streamed.usage };

const generated = await generateText({ model: anthropic('claude-haiku-4-5'), prompt: 'not streamed' });
report.generate = { text: generated.text, finish: generated.finishReason };

const withTool = streamText({
  model: anthropic('claude-haiku-4-5'), prompt: 'weather', toolChoice: 'required',
  tools: { get_weather: tool({ description: 'weather', inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }) }) },
});
report.parts = [];
for await (const part of withTool.fullStream) {
  if (part.type === 'tool-call') report.parts.push({ type: part.type, input: part.input });
  if (part.type === 'error') report.parts.push({ type: 'error', error: String(part.error) });
  if (part.type === 'finish') report.parts.push({ type: 'finish', reason: part.finishReason });
}
console.log(JSON.stringify(report));
