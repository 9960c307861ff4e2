/**
 * The keyboard shortcuts forms share: Ctrl/Cmd+Enter submits (the launch and outcome dialogs,
 * the attach forms, the composer). One test for the shortcut, so every form agrees on it.
 * Imports no feature.
 */
import type { KeyboardEvent } from 'react';

/** Ctrl+Enter, or Cmd+Enter on a Mac: "submit from wherever the caret is". */
export function isSubmitShortcut(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey'>): boolean {
  return event.key === 'Enter' && (event.ctrlKey || event.metaKey);
}

/**
 * Ctrl/Cmd+Enter submits from anywhere in the dialog; a plain Enter in a one-line field does
 * nothing (it must not submit a half-filled form: only the button and the shortcut do).
 */
export function dialogSubmitKeys(submit: () => void): (event: KeyboardEvent<HTMLDialogElement>) => void {
  return (event) => {
    if (event.key !== 'Enter' || event.nativeEvent.isComposing) return;
    if (isSubmitShortcut(event)) {
      event.preventDefault();
      submit();
    } else if (event.target instanceof HTMLInputElement) {
      event.preventDefault();
    }
  };
}

/** Whether the platform's shortcuts use ⌘ (navigator.userAgentData.platform or navigator.platform). */
export function isApplePlatform(platform: string): boolean {
  return /mac|iphone|ipad|ipod/i.test(platform);
}

/** How to write "Ctrl/Cmd+Enter" for this platform. */
export function launchShortcutLabel(platform: string): string {
  return isApplePlatform(platform) ? '⌘↵' : 'Ctrl+Enter';
}
