/**
 * Terminal escape codes in text the log keeps verbatim (tool output): the one pattern that finds
 * them, for the terminal view (which keeps colours and draws them with Anser) and for one-line
 * summaries (which drop them all). Pure: no React, no DOM. Imports no feature.
 */

/**
 * Escape sequences and control characters, matched so that SGR codes can be kept: OSC (titles,
 * hyperlinks; an unterminated one up to the end of its line), DCS/SOS/PM/APC strings, CSI
 * (cursor moves, erases, modes), any other ESC sequence, a lone ESC, and C0/C1 controls
 * other than \t, \n and \r.
 */
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\u001b\][^\u0007\u001b\n]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u001b\[[0-?]*[ -/]*[@-~]|\u001b[ -/]*[0-~]?|[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f-\u009f]/g;
/** SGR with plain numeric parameters, the only sequence Anser reads (colon forms are dropped). */
// eslint-disable-next-line no-control-regex
const SGR = /^\u001b\[[\d;]*m$/;
/** Every SGR code in a text (global: for `match`). */
// eslint-disable-next-line no-control-regex
export const SGR_ALL = /\u001b\[[\d;]*m/g;

/** The text with every escape code but SGR (colours, bold, …) dropped, for a view that draws colours. */
export function withoutNonSgrCodes(text: string): string {
  return text.replace(ESCAPES, (code) => (SGR.test(code) ? code : ''));
}

/** The text with every escape code and control character (but \t, \n, \r) dropped, for plain text. */
export function withoutTerminalCodes(text: string): string {
  return text.replace(ESCAPES, '');
}
