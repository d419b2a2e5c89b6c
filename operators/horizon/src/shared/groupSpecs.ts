/** A group type's specs as the dashboard's dialog takes them: `key=value`, one a line (blank lines ignored). */
export function parseSpecs(text: string): Record<string, string> {
  const specs: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at < 1) throw new Error(`A group spec is key=value: "${line}" is not.`);
    specs[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return specs;
}
