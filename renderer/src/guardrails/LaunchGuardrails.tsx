/**
 * The launch dialog's guardrails: the session's budget (empty: the default budget for new
 * sessions from Settings, shown) and a policy per hand, its kind's default shown (containers
 * always allow; SSH machines and MCP servers, attached later in the Hands panel, ask).
 */
import { useEffect, useState } from 'react';
import { PermissionPolicySchema, type Budget, type PermissionPolicy } from '#shared/guardrails';
import type { Transport } from '#renderer/client/transport.ts';
import { LaunchField } from '#renderer/ui/fields.tsx';
import { dollarsOf } from './budget-model.ts';
import { POLICY_LABELS } from './PolicyPanel.tsx';
import './guardrails.css';

export interface LaunchGuardrailsProps {
  transport: Transport;
  id: string;
  budget: string;
  budgetError: string | undefined;
  onBudget: (text: string) => void;
  /** `defaultPolicy`: the hand kind's default when it is not a container's (a machine or MCP server from the hand library). */
  hands: ReadonlyArray<{ key: string; name: string; defaultPolicy?: PermissionPolicy | undefined }>;
  /** By hand row key; absent: the hand's default. */
  policies: Readonly<Record<string, PermissionPolicy>>;
  onPolicy: (key: string, policy: PermissionPolicy | null) => void;
}

/** A Docker hand's default policy (issue 18: containers are throwaway). */
const CONTAINER_DEFAULT: PermissionPolicy = 'always_allow';

export function LaunchGuardrails({ transport, id, budget, budgetError, onBudget, hands, policies, onPolicy }: LaunchGuardrailsProps) {
  const [fallback, setFallback] = useState<Budget | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    transport.call('budget-default-get', undefined).then(
      (value) => {
        if (live) setFallback(value);
      },
      () => {
        if (live) setFallback(undefined);
      },
    );
    return () => {
      live = false;
    };
  }, [transport]);
  const defaultText =
    fallback === undefined ? '' : fallback === null || fallback.max_list_cost === undefined ? 'no budget' : `$${dollarsOf(fallback)}`;
  return (
    <section className="launch-guardrails" aria-label="Guardrails">
      <LaunchField
        id={`${id}-budget`}
        label="Budget (USD)"
        error={budgetError}
        note={`Claude stops before a request past it. Empty: the default for new sessions${defaultText === '' ? '' : ` (${defaultText})`}, set in Settings.`}
      >
        {(control) => (
          <input
            {...control}
            className="input"
            value={budget}
            inputMode="decimal"
            placeholder={defaultText === '' || defaultText === 'no budget' ? 'none' : defaultText.slice(1)}
            onChange={(event) => onBudget(event.target.value)}
          />
        )}
      </LaunchField>
      {hands.map((hand) => (
        <LaunchField
          key={hand.key}
          id={`${id}-policy-${hand.key}`}
          label={`Policy for ${hand.name || 'this hand'}`}
          note="Default for a container: always allow. Machines (SSH) and MCP servers, attached in the Hands panel, ask by default (MCP: unless trusted)."
        >
          {(control) => (
            <select
              {...control}
              className="input"
              value={policies[hand.key] ?? ''}
              onChange={(event) => {
                const parsed = PermissionPolicySchema.safeParse(event.target.value);
                onPolicy(hand.key, parsed.success ? parsed.data : null);
              }}
            >
              <option value="">Default ({POLICY_LABELS[hand.defaultPolicy ?? CONTAINER_DEFAULT].toLowerCase()})</option>
              {PermissionPolicySchema.options.map((value) => (
                <option key={value} value={value}>
                  {POLICY_LABELS[value]}
                </option>
              ))}
            </select>
          )}
        </LaunchField>
      ))}
    </section>
  );
}
