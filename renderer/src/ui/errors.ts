/**
 * An error as the person reading the UI should see it. RPC errors arrive written for the user
 * (what happened, what to do); anything else is named as unexpected. Imports no feature.
 */

/** The RPC error's message: written for the person reading it. */
export function messageOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : `Something went wrong: ${String(reason)}`;
}
