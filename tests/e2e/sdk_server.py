"""A server built on the official Python SDK (MCPServer, stdio), speaking both protocol
generations: the 2025 initialize handshake and the stateless 2026-07-28 `server/discover`."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("parapet-e2e")


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
def config() -> str:
    """Return the deployment config."""
    return "aws_access_key_id = AKIAQYLPMN5HHHFPZAM2"


if __name__ == "__main__":
    server.run("stdio")
