/**
 * The Hands panel's policies: for each hand, what all its tools do (always allow / ask / deny) and
 * each tool's own policy — the effective ones, defaults included, as `sessions-guardrails` answers
 * — and the rules that auto-allow a narrow pattern, each removable. Every change is an event
 * (`policy.*`): forks and rewinds inherit it.
 */
import { useState } from 'react';
import { PermissionPolicySchema, type GuardrailsView, type PermissionPolicy, type PolicyEntry, type PolicyRule } from '#shared/guardrails';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import './guardrails.css';

export const POLICY_LABELS: Record<PermissionPolicy, string> = { always_allow: 'Always allow', always_ask: 'Ask', deny: 'Deny' };

export interface PolicyPanelProps {
  transport: Transport;
  sessionId: string;
  view: GuardrailsView | null;
  onView: (view: GuardrailsView) => void;
  error: string | null;
}

export function ruleText(rule: PolicyRule): string {
  return rule.type === 'read_only_commands' ? 'read-only commands (ls, cat, git status…)' : `commands starting “${rule.prefix}”`;
}

export function PolicyPanel({ transport, sessionId, view, onView, error }: PolicyPanelProps) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function change(run: () => Promise<GuardrailsView>): Promise<void> {
    setBusy(true);
    setProblem(null);
    try {
      onView(await run());
    } catch (reason) {
      setProblem(messageOf(reason));
    } finally {
      setBusy(false);
    }
  }

  if (view === null) return error === null ? null : <p className="notice notice-error">Could not read the policies: {error}</p>;
  const hands = groupByHand(view.policies);
  return (
    <section className="policies" aria-label="Policies" data-testid="policies">
      <h3>Policies</h3>
      {hands.length === 0 && <p className="empty-hint">No hands yet: policies appear with them.</p>}
      {hands.map(({ hand, wide, tools }) => (
        <div key={hand} className="policy-hand">
          <PolicyRow
            label={`${hand}: all tools`}
            className="policy-row policy-hand-wide"
            policy={wide}
            busy={busy}
            onChange={(policy) => void change(() => transport.call('sessions-set-policy', { sessionId, hand, tool: null, policy }))}
          />
          {tools.map((entry) => (
            <PolicyRow
              key={entry.tool}
              label={entry.tool ?? ''}
              className="policy-row"
              policy={entry.policy}
              busy={busy}
              onChange={(policy) => void change(() => transport.call('sessions-set-policy', { sessionId, hand, tool: entry.tool, policy }))}
            />
          ))}
        </div>
      ))}
      <h3>Rules</h3>
      {view.rules.length === 0 ? (
        <p className="empty-hint">No rules. “Allow similar for this session” on an approval card adds one.</p>
      ) : (
        <ul className="rule-list" data-testid="rules">
          {view.rules.map((entry) => (
            <li key={entry.rule_id}>
              <span>
                {entry.hand} · {entry.tool}: allow {ruleText(entry.rule)}
              </span>
              <button
                type="button"
                className="button button-quiet button-danger-quiet"
                disabled={busy}
                onClick={() => void change(() => transport.call('sessions-remove-rule', { sessionId, ruleId: entry.rule_id }))}
                aria-label={`Remove the rule: ${entry.hand} · ${entry.tool}: allow ${ruleText(entry.rule)}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {problem !== null && (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

function PolicyRow({
  label,
  className,
  policy,
  busy,
  onChange,
}: {
  label: string;
  className: string;
  policy: PermissionPolicy;
  busy: boolean;
  onChange: (policy: PermissionPolicy) => void;
}) {
  return (
    <label className={className}>
      <span className="policy-tool">{label}</span>
      <select
        className="input"
        value={policy}
        disabled={busy}
        onChange={(event) => {
          const parsed = PermissionPolicySchema.safeParse(event.target.value);
          if (parsed.success) onChange(parsed.data);
        }}
        aria-label={`Policy for ${label}`}
      >
        {PermissionPolicySchema.options.map((value) => (
          <option key={value} value={value}>
            {POLICY_LABELS[value]}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The hands in order, each with its hand-wide policy and its tools'. */
export function groupByHand(policies: readonly PolicyEntry[]): Array<{ hand: string; wide: PermissionPolicy; tools: PolicyEntry[] }> {
  const out = new Map<string, { hand: string; wide: PermissionPolicy; tools: PolicyEntry[] }>();
  for (const entry of policies) {
    const group = out.get(entry.hand) ?? { hand: entry.hand, wide: 'always_ask' as PermissionPolicy, tools: [] };
    if (entry.tool === null) group.wide = entry.policy;
    else group.tools.push(entry);
    out.set(entry.hand, group);
  }
  return [...out.values()];
}
