/**
 * Settings → Hands library → "Add to library" (issue 23): a Docker preset, a machine or an MCP
 * server added straight to the library, with the very forms that attach one to a session (the
 * Hands panel's: the same fields, checks, engines and requirements, ~/.ssh/config hosts, secret
 * pickers that show names only). What the form makes is saved by `hand-library-save`, which checks
 * it with the same schema as every library entry; its label is "<name> — <what it is>", changed
 * afterwards with Rename.
 */
import { useState } from 'react';
import { describeLibraryHand, type HandLibraryItem } from '#shared/hand-library';
import { HandSpecSchema, type HandSpecInput } from '#shared/hands';
import type { Transport } from '#renderer/client/transport.ts';
import { AttachHandForm, AttachMachineForm, AttachMcpForm, defaultLibraryLabel, type HandLibraryState } from '#renderer/hands/index.ts';

type Kind = 'docker' | 'ssh' | 'mcp';

const KINDS: ReadonlyArray<{ kind: Kind; label: string }> = [
  { kind: 'docker', label: 'Docker preset' },
  { kind: 'ssh', label: 'Machine' },
  { kind: 'mcp', label: 'MCP server' },
];

const SUBMIT = { idle: 'Add to library', busy: 'Adding…' };

export function AddToLibrary({
  transport,
  library,
  entries,
  onAdded,
}: {
  transport: Transport;
  library: HandLibraryState;
  entries: readonly HandLibraryItem[];
  onAdded: (label: string) => void;
}) {
  const [adding, setAdding] = useState<Kind | null>(null);

  /** Saves what the form made; a refusal rejects, so the form shows it where it belongs. */
  async function add(hand: HandSpecInput): Promise<void> {
    const parsed = HandSpecSchema.safeParse(hand);
    // A spec the schema refuses gets its name as label: the save refuses it in words, in the form.
    const label = parsed.success ? defaultLibraryLabel(parsed.data.name, describeLibraryHand(parsed.data.config)) : hand.name;
    await library.save(label, hand);
    setAdding(null);
    onAdded(label);
  }

  const props = {
    transport,
    existingNames: entries.map((entry) => entry.hand.name),
    onAttach: add,
    onClose: () => setAdding(null),
    submitLabel: SUBMIT,
  };
  return (
    <div className="hand-library-add" data-testid="hand-library-add">
      <div className="hand-library-add-kinds" role="group" aria-label="Add to library">
        <span className="settings-hint">Add to library:</span>
        {KINDS.map(({ kind, label }) => (
          <button
            key={kind}
            type="button"
            className="button button-small"
            aria-pressed={adding === kind}
            onClick={() => setAdding(adding === kind ? null : kind)}
          >
            {label}
          </button>
        ))}
      </div>
      {adding === 'docker' && <AttachHandForm {...props} />}
      {adding === 'ssh' && <AttachMachineForm {...props} />}
      {adding === 'mcp' && <AttachMcpForm {...props} />}
    </div>
  );
}
