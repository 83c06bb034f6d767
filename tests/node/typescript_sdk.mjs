// The official TypeScript SDK against the server at $BASE_URL; prints one JSON report.
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({ baseURL: process.env.BASE_URL, apiKey: 'sk-ant-node', maxRetries: 0 });
const report = {};

const stream = client.messages.stream({
  model: 'claude-sonnet-4-6', max_tokens: 128000, messages: [{ role: 'user', content: 'Hello from TypeScript' }],
});
report.deltas = [];
stream.on('text', (t) => report.deltas.push(t));
const final = await stream.finalMessage();
report.final = { text: final.content[0].text, stop_reason: final.stop_reason, usage: final.usage };

const tool = await client.messages.create({
  model: 'claude-opus-4-5', max_tokens: 1000, tool_choice: { type: 'any' },
  tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
  messages: [{ role: 'user', content: 'weather?' }],
});
report.tool = tool.content[0];

const raw = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'raw events' }] });
report.raw = [];
for await (const event of raw) report.raw.push(event.type);

report.models = [];
for await (const model of client.models.list({ limit: 5 })) report.models.push(model.id);

try {
  await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
    { headers: { 'x-claudewire-fault': 'overloaded' } });
} catch (e) {
  report.error = { name: e.constructor.name, status: e.status };
}
try {
  const broken = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'one two three four' }] },
    { headers: { 'x-claudewire-fault': 'error_after=2' } });
  await broken.finalMessage();
} catch (e) {
  report.in_band = { name: e.constructor.name, message: String(e.message) };
}
console.log(JSON.stringify(report));
