/**
 * A row of tabs as the ARIA tabs pattern has it: one tab in the Tab order (the selected one), ←/→
 * move between tabs (and select, as tabs here are cheap to show), Home/End go to the first/last;
 * each tab controls the panel whose id it is given, and the panel is labelled by the selected tab.
 */
import { useRef, type KeyboardEvent } from 'react';

export interface TabsProps<T extends string> {
  tabs: ReadonlyArray<{ id: T; label: string }>;
  selected: T;
  onSelect: (id: T) => void;
  /** The tab list's accessible name. */
  label: string;
  /** Prefix for the tabs' ids (`${idPrefix}-tab-${id}`) and the panel's (`${idPrefix}-panel`). */
  idPrefix: string;
  className?: string;
}

export function tabId(idPrefix: string, id: string): string {
  return `${idPrefix}-tab-${id}`;
}

export function panelId(idPrefix: string): string {
  return `${idPrefix}-panel`;
}

export function Tabs<T extends string>({ tabs, selected, onSelect, label, idPrefix, className = 'tabs' }: TabsProps<T>) {
  const list = useRef<HTMLDivElement>(null);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>): void {
    const index = tabs.findIndex((tab) => tab.id === selected);
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = (index + 1) % tabs.length;
    else if (event.key === 'ArrowLeft') next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = tabs.length - 1;
    const tab = next === null ? undefined : tabs[next];
    if (tab === undefined) return;
    // Taken here: the page's own arrow keys (the timeline's) must not also move.
    event.preventDefault();
    event.stopPropagation();
    onSelect(tab.id);
    list.current?.querySelector<HTMLElement>(`#${CSS.escape(tabId(idPrefix, tab.id))}`)?.focus();
  }

  return (
    <div ref={list} className={className} role="tablist" aria-label={label} onKeyDown={onKeyDown}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          id={tabId(idPrefix, tab.id)}
          type="button"
          role="tab"
          className="tab"
          aria-selected={tab.id === selected}
          aria-controls={panelId(idPrefix)}
          tabIndex={tab.id === selected ? 0 : -1}
          onClick={() => onSelect(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}
