/**
 * Maps an MCP `tools/call` result into a Drover tool outcome: Messages API content blocks (text,
 * base64 images), the structured content passed through, and the error flag kept.
 *
 * An MCP server is a trust boundary: its answer is validated here before anything of it is
 * used, and an answer that is not a CallToolResult becomes an error outcome — it must never
 * throw, and never pass an unchecked value on.
 */
import { z } from 'zod';
import type { ContentBlock } from '#shared/events';

type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
const IMAGE_TYPES: ReadonlySet<string> = new Set<ImageMediaType>(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
function isImageMediaType(value: string): value is ImageMediaType {
  return IMAGE_TYPES.has(value);
}

/** The Messages API refuses images over 5 MB (decoded). */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const TextContent = z.looseObject({ type: z.literal('text'), text: z.string() });
const ImageContent = z.looseObject({ type: z.literal('image'), data: z.string(), mimeType: z.string() });
const AudioContent = z.looseObject({ type: z.literal('audio'), data: z.string(), mimeType: z.string() });
const ResourceLink = z.looseObject({
  type: z.literal('resource_link'),
  uri: z.string(),
  name: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  mimeType: z.string().optional(),
  size: z.number().optional(),
});
const EmbeddedResource = z.looseObject({
  type: z.literal('resource'),
  resource: z.union([
    z.looseObject({ uri: z.string(), mimeType: z.string().optional(), text: z.string() }),
    z.looseObject({ uri: z.string(), mimeType: z.string().optional(), blob: z.string() }),
  ]),
});
const ContentSchema = z.discriminatedUnion('type', [TextContent, ImageContent, AudioContent, ResourceLink, EmbeddedResource]);
/** A content item of a type this version does not know (MCP may add types): noted, not dropped silently. */
const KNOWN_TYPES: ReadonlySet<string> = new Set(['text', 'image', 'audio', 'resource_link', 'resource']);
const UnknownContent = z.looseObject({
  type: z.string().refine((type) => !KNOWN_TYPES.has(type), 'a known content type with invalid fields'),
});

/** A CallToolResult as the MCP spec defines it; unknown fields are ignored. */
export const CallToolResultSchema = z.looseObject({
  content: z.array(z.union([ContentSchema, UnknownContent])).default([]),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
});

export interface McpToolOutcome {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError: boolean;
}

function decodedSize(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((base64.length * 3) / 4) - padding);
}

function text(value: string): ContentBlock {
  return { type: 'text', text: value };
}

function mapContent(item: z.infer<typeof ContentSchema> | z.infer<typeof UnknownContent>): ContentBlock {
  const parsed = ContentSchema.safeParse(item);
  if (!parsed.success) return text(`[the MCP server returned a "${item.type}" content item, which Drover cannot show]`);
  const content = parsed.data;
  switch (content.type) {
    case 'text':
      return text(content.text);
    case 'image': {
      const data = content.data.replace(/\s+/g, '');
      const size = decodedSize(data);
      if (!isImageMediaType(content.mimeType)) return text(`[image (${content.mimeType}, ${size} bytes): not a type the model can view]`);
      if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data))
        return text(`[image (${content.mimeType}): its data is not valid base64]`);
      if (size > MAX_IMAGE_BYTES)
        return text(`[image (${content.mimeType}, ${size} bytes): larger than the model accepts (${MAX_IMAGE_BYTES} bytes)]`);
      return { type: 'image', source: { type: 'base64', media_type: content.mimeType, data } };
    }
    case 'audio':
      return text(`[audio (${content.mimeType}, ${decodedSize(content.data)} bytes): the model cannot hear audio]`);
    case 'resource_link': {
      const details = [content.title ?? content.name, content.mimeType, content.size === undefined ? undefined : `${content.size} bytes`]
        .filter((part) => part !== undefined)
        .join(', ');
      const description = content.description === undefined ? '' : `\n${content.description}`;
      return text(`[resource link: ${content.uri} (${details})]${description}`);
    }
    case 'resource': {
      const resource = content.resource;
      if ('text' in resource) {
        return text(`[resource ${resource.uri}${resource.mimeType === undefined ? '' : ` (${resource.mimeType})`}]\n${resource.text}`);
      }
      return text(
        `[binary resource ${resource.uri} (${resource.mimeType ?? 'unknown type'}, ${decodedSize(resource.blob.replace(/\s+/g, ''))} bytes): not shown]`,
      );
    }
  }
}

/** The outcome for a raw `tools/call` result; a malformed one becomes an error outcome. */
export function mapCallToolResult(raw: unknown): McpToolOutcome {
  const parsed = CallToolResultSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'result'}: ${issue.message})`;
    return { content: [text(`The MCP server answered something that is not a valid tool result${where}.`)], isError: true };
  }
  const outcome: McpToolOutcome = { content: parsed.data.content.map(mapContent), isError: parsed.data.isError === true };
  if (parsed.data.structuredContent !== undefined) outcome.structuredContent = parsed.data.structuredContent;
  return outcome;
}
