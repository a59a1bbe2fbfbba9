const TOKEN_PARAM = /([?&](?:token|apikey|api_key|key)=)[^&\s"'#]*/gi;

/**
 * Removes secrets from text that may be logged or shown: every occurrence of each secret, and the value of any
 * `token=` / `apikey=` query parameter (Finnhub authenticates with `?token=KEY` in the WebSocket URL).
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out.replace(TOKEN_PARAM, '$1***');
}
