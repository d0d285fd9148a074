# Writes corpora/cases/everyday_benign_ai_tools.jsonl (run from the repository root): one-line
# descriptions of AI tools, agent frameworks and MCP servers, as package indexes and MCP tool
# listings show them. Written for this project from templates; deterministic (fixed seed).
import json, random, hashlib
random.seed(20261206)

names = ["Aria", "Bolt", "Cobalt", "Dune", "Ember", "Fjord", "Gale", "Harbor", "Iris", "Juno",
         "Kite", "Lumen", "Mako", "Nimbus", "Orca", "Pike", "Quill", "Rune", "Sable", "Tern",
         "Umbra", "Vale", "Wren", "Xeno", "Yarrow", "Zephyr"]
agents = ["AI agents", "AI coding agents", "AI assistants", "LLM agents", "coding agents",
          "AI coding assistants", "autonomous agents", "agentic workflows", "LLM apps",
          "AI copilots", "multi-agent systems", "chatbots", "voice agents", "AI tools"]
services = ["Gmail", "Slack", "Jira", "Notion", "GitHub", "Postgres", "Stripe", "Shopify",
            "Google Drive", "Confluence", "Linear", "Salesforce", "HubSpot", "Zendesk",
            "Airtable", "Trello", "Figma", "Sentry", "Datadog", "S3", "BigQuery", "Snowflake",
            "Outlook", "Calendly", "Twilio", "Discord", "Telegram", "YouTube", "Spotify"]
verbs = ["search", "read", "create", "update", "list", "summarise", "export", "tag", "archive",
         "send", "reply to", "schedule", "upload", "download", "query", "label", "comment on",
         "delete", "forward", "translate", "classify", "index", "monitor", "review"]
objects = ["messages", "issues", "pages", "tables", "invoices", "orders", "files", "tickets",
           "events", "pull requests", "documents", "contacts", "threads", "dashboards", "logs",
           "recordings", "playlists", "payments", "records", "notes"]
features = ["persistent memory", "tool calling", "structured outputs", "prompt caching",
            "retries and timeouts", "streaming responses", "token accounting", "guardrails",
            "evaluation reports", "trace replay", "cost tracking", "rate limiting",
            "sandboxed execution", "human approval steps", "audit logs", "vector search",
            "context compression", "session history", "typed tool schemas", "OpenTelemetry spans"]
adjs = ["lightweight", "fast", "minimal", "typed", "local-first", "open-source", "async",
        "self-hosted", "privacy-first", "batteries-included", "zero-config", "production-ready"]
things = ["framework", "toolkit", "library", "SDK", "CLI", "plugin", "runtime", "harness",
          "server", "gateway", "proxy", "dashboard", "extension", "wrapper"]
models = ["OpenAI", "Anthropic", "Gemini", "Mistral", "Ollama", "local LLMs", "Bedrock",
          "Azure OpenAI", "Groq", "any OpenAI-compatible API"]

def pick(xs): return random.choice(xs)
def verbs3():
    v = random.sample(verbs, 3)
    return f"{v[0]}, {v[1]} and {v[2]}"

templates = [
    lambda: f"MCP server for {pick(services)}: {verbs3()} {pick(objects)}.",
    lambda: f"{pick(services)} for {pick(agents)}: {verbs3()} {pick(objects)} from one tool.",
    lambda: f"A {pick(adjs)} {pick(things)} for building {pick(agents)} with {pick(features)}.",
    lambda: f"{pick(names)} — an AI coding assistant for your terminal, powered by {pick(models)}.",
    lambda: f"Persistent, queryable memory for {pick(agents)}.",
    lambda: f"Benchmark and compare {pick(agents)} with reproducible tests and {pick(features)}.",
    lambda: f"Tells you what your AI agent changed in your {pick(['repository', 'database', 'cluster', 'calendar', 'inbox'])}.",
    lambda: f"Let your agent {pick(verbs)} {pick(objects)} in {pick(services)} for you.",
    lambda: f"Python SDK for {pick(names)}, the {pick(['search', 'scraping', 'context', 'memory', 'browser'])} API for {pick(agents)}.",
    lambda: f"A {pick(adjs)} personal AI assistant {pick(things)}.",
    lambda: f"{pick(names)}: an AI agent that can {verbs3()} your {pick(objects)}.",
    lambda: f"Official {pick(['Python', 'TypeScript', 'Go', 'Rust'])} client for the {pick(names)} AI API.",
    lambda: f"Run AI models, create deployments and manage predictions via the {pick(names)} API.",
    lambda: f"Evaluation and tracing {pick(things)} for {pick(agents)}: {pick(features)}, {pick(features)} and {pick(features)}.",
    lambda: f"Connect {pick(agents)} to {pick(services)} and {pick(services)} through the Model Context Protocol.",
    lambda: f"Chat with your {pick(objects)} using {pick(models)}.",
    lambda: f"Instruction files for AI coding assistants: lint, validate and fix them in CI.",
    lambda: f"Give your AI assistant access to {pick(services)} {pick(objects)}, read-only by default.",
    lambda: f"Policy enforcement and audit logging for {pick(agents)} that call tools.",
    lambda: f"{pick(names)} helps {pick(agents)} {pick(verbs)} {pick(objects)} safely, with {pick(features)}.",
    lambda: f"An MCP server that lets Claude, Cursor and other AI assistants {pick(verbs)} {pick(objects)}.",
    lambda: f"Prompt templates and system prompts for {pick(agents)}, versioned in git.",
    lambda: f"Tool that summarises {pick(objects)} with an LLM and posts the summary to {pick(services)}.",
    lambda: f"Orchestrate {pick(agents)} across {pick(models)} with {pick(features)}.",
    lambda: f"Voice assistant {pick(things)}: speech to text, text to speech and an LLM agent loop.",
    lambda: f"Write AI-powered scripts in plain English and run them on {pick(['Linux', 'macOS', 'Windows', 'Kubernetes'])}.",
]

multilingual = [
    lambda: f"Sistema de memoria a largo plazo para agentes de inteligencia artificial con {pick(['búsqueda vectorial', 'historial de sesiones', 'registro de auditoría'])}.",
    lambda: f"Orquestrador de agentes de IA para {pick(['desenvolvimento de software', 'atendimento ao cliente', 'análise de dados'])}.",
    lambda: f"API {pick(services)} для ИИ-ассистентов: {pick(['заказы', 'документы', 'сообщения', 'отчёты'])}, {pick(['цены', 'статусы', 'контакты', 'файлы'])} и {pick(['аналитика', 'поиск', 'выгрузка'])}.",
    lambda: f"Serveur MCP pour {pick(services)} : rechercher, lire et créer des {pick(['tickets', 'documents', 'messages', 'factures'])} depuis votre agent IA.",
    lambda: f"Ein leichtgewichtiges Framework für KI-Agenten mit {pick(['Werkzeugaufrufen', 'Langzeitgedächtnis', 'Protokollierung'])}.",
    lambda: f"面向 AI 智能体的{pick(['记忆', '检索', '工作流', '评测'])}框架，支持 {pick(models)}。",
    lambda: f"AIエージェント向けの{pick(['メモリ', '検索', 'ワークフロー', '評価'])}ライブラリ。{pick(models)}に対応。",
    lambda: f"Assistente de IA pessoal leve para o terminal, com {pick(['memória persistente', 'chamadas de ferramentas', 'histórico de sessões'])}.",
]

seen = set()
rows = []
while len(rows) < 240:
    t = pick(templates) if random.random() < 0.85 else pick(multilingual)
    text = t()
    if text in seen:
        continue
    seen.add(text)
    h = hashlib.sha256(text.encode()).hexdigest()[:8]
    rows.append({"id": f"ours_benign_ai_tools-{len(rows)+1}-{h}", "text": text, "label": "benign",
                 "kind": "everyday", "source": "mcp-parapet corpora (written for this project)",
                 "license": "MIT OR Apache-2.0"})
with open("corpora/cases/everyday_benign_ai_tools.jsonl", "w") as o:
    for r in rows:
        o.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows))
