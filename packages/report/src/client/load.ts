/** Reads a page's embedded data: plain JSON, or gzip+base64 for big pages (decompressed in the browser). */
export async function loadEmbedded<T>(id: string, what: string): Promise<T> {
  const element = document.getElementById(id);
  if (!element) throw new Error(`no embedded ${what}`);
  const text = element.textContent ?? "";
  if (element.getAttribute("type") === "application/json") return JSON.parse(text) as T;
  if (typeof DecompressionStream === "undefined") throw new Error("this browser cannot decompress the embedded data (no DecompressionStream); open the page in a current browser");
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text()) as T;
}
