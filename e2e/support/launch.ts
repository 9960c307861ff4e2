/**
 * UI steps many browser specs take before what they test: the launch dialog filled and sent, an
 * SSH key saved in Settings, a machine attached in the Hands panel (its host key trusted).
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { BASH_IMAGE } from '#test/support/docker';

export interface LaunchOptions {
  /** The session's name. */
  name: string;
  /** A Docker hand named `box` with this image (`true`: the test bash image). */
  dockerHand?: string | true;
  firstMessage?: string;
}

/** Opens the launch dialog ("New session") and fills it; returns the dialog, not yet sent. */
export async function fillLaunchDialog(page: Page, options: LaunchOptions): Promise<Locator> {
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(options.name);
  if (options.dockerHand !== undefined) {
    await dialog.getByRole('button', { name: 'Add Docker hand' }).click();
    const image = options.dockerHand === true ? BASH_IMAGE : options.dockerHand;
    await dialog.getByRole('group', { name: 'Hand box' }).getByLabel('Image').fill(image);
  }
  if (options.firstMessage !== undefined) await dialog.getByLabel('First message').fill(options.firstMessage);
  return dialog;
}

/**
 * Sends a filled launch dialog and waits for it to close: `button` clicks Launch; `shortcut` presses
 * Ctrl+Enter in the last field filled (the first message when there is one, else the name).
 */
export async function submitLaunchDialog(dialog: Locator, how: 'button' | 'shortcut' = 'button'): Promise<void> {
  if (how === 'button') {
    await dialog.getByRole('button', { name: 'Launch' }).click();
  } else {
    const message = dialog.getByLabel('First message');
    const field = (await message.inputValue()) === '' ? dialog.getByLabel('Name', { exact: true }) : message;
    await field.press('Control+Enter');
  }
  await expect(dialog).toBeHidden();
}

/** A session launched from the dialog (see fillLaunchDialog and submitLaunchDialog). */
export async function launchSession(page: Page, options: LaunchOptions, how: 'button' | 'shortcut' = 'button'): Promise<void> {
  await submitLaunchDialog(await fillLaunchDialog(page, options), how);
}

/** Saves an SSH private key in the vault from Settings → Credentials, and waits for its row. */
export async function saveSshKey(page: Page, name: string, privateKey: string): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  const add = page.getByRole('form', { name: 'Add a credential' });
  await add.getByLabel('Name').fill(name);
  await add.getByLabel('Kind').selectOption({ label: 'SSH private key' });
  await add.getByLabel('Value').fill(privateKey);
  await add.getByRole('button', { name: 'Save credential' }).click();
  await expect(page.getByRole('row', { name })).toBeVisible();
}

export interface MachineForm {
  port: number;
  user: string;
  /** The saved key's name, as the Key list shows it. */
  keyName: string;
}

/** Opens "Attach a machine" in the Hands panel, fills it for 127.0.0.1 with a saved key, and presses Test connection. */
export async function testMachineConnection(panel: Locator, machine: MachineForm): Promise<void> {
  await panel.getByRole('button', { name: 'Attach a machine' }).click();
  await panel.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await panel.getByLabel('Port', { exact: true }).fill(String(machine.port));
  await panel.getByLabel('User', { exact: true }).fill(machine.user);
  await panel.getByRole('radio', { name: 'SSH key' }).check();
  await panel.getByLabel('Key', { exact: true }).selectOption({ label: machine.keyName });
  await panel.getByRole('button', { name: 'Test connection' }).click();
}

/** The group that shows 127.0.0.1's host key after a first Test connection (with its "Trust this host"). */
export function hostKeyGroup(panel: Locator): Locator {
  return panel.getByRole('group', { name: /Host key of 127\.0\.0\.1/ });
}
