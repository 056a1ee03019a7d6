/**
 * The only module that knows about `@vscode/webview-ui-toolkit`. The toolkit is deprecated
 * upstream, so the rest of the webview asks this layer for buttons, fields, checkboxes and
 * dropdowns by what they do; swapping the toolkit for plain elements means rewriting this file
 * alone. Icons are codicons (`@vscode/codicons`, bundled with its font by esbuild).
 *
 * Untrusted text never passes through here as HTML: labels and option texts are set with
 * `textContent`.
 */

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Registers the custom elements once; call before creating any control. */
export function registerComponents(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeTextField(),
  );
}

/** A codicon, e.g. `icon('debug-step-over')`. Decorative unless given a label. */
export function icon(name: string, label?: string): HTMLElement {
  const el = document.createElement('span');
  el.className = `codicon codicon-${name}`;
  if (label === undefined) el.setAttribute('aria-hidden', 'true');
  else {
    el.setAttribute('role', 'img');
    el.setAttribute('aria-label', label);
  }
  return el;
}

export interface ButtonOptions {
  /** Visible text; omit for an icon-only button (then `title` is its accessible name). */
  label?: string;
  icon?: string;
  title: string;
  appearance?: 'primary' | 'secondary' | 'icon';
  onClick: () => void;
}

export interface Control<E extends HTMLElement = HTMLElement> {
  readonly el: E;
  setDisabled(disabled: boolean): void;
}

export function button(o: ButtonOptions): Control {
  const el = document.createElement('vscode-button');
  el.setAttribute('appearance', o.appearance ?? (o.label === undefined ? 'icon' : 'secondary'));
  el.setAttribute('title', o.title);
  el.setAttribute('aria-label', o.title);
  if (o.icon !== undefined) {
    const i = icon(o.icon);
    if (o.label !== undefined) i.setAttribute('slot', 'start');
    el.append(i);
  }
  if (o.label !== undefined) el.append(document.createTextNode(o.label));
  el.addEventListener('click', () => {
    if (!el.hasAttribute('disabled')) o.onClick();
  });
  return { el, setDisabled: (d) => el.toggleAttribute('disabled', d) };
}

export interface TextFieldControl extends Control {
  value: string;
  focus(): void;
}

export function textField(o: {
  placeholder: string;
  title: string;
  icon?: string;
  onInput: (value: string) => void;
  onKey?: (e: KeyboardEvent) => void;
}): TextFieldControl {
  const el = document.createElement('vscode-text-field') as HTMLElement & { value: string };
  el.setAttribute('placeholder', o.placeholder);
  el.setAttribute('title', o.title);
  el.setAttribute('aria-label', o.title);
  if (o.icon !== undefined) {
    const i = icon(o.icon);
    i.setAttribute('slot', 'start');
    el.append(i);
  }
  el.addEventListener('input', () => o.onInput(el.value ?? ''));
  if (o.onKey !== undefined) el.addEventListener('keydown', o.onKey);
  return {
    el,
    get value() {
      return el.value ?? '';
    },
    set value(v: string) {
      el.value = v;
    },
    focus: () => el.focus(),
    setDisabled: (d) => el.toggleAttribute('disabled', d),
  };
}

export interface CheckboxControl extends Control {
  checked: boolean;
}

export function checkbox(o: {
  label: string;
  title: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}): CheckboxControl {
  const el = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  el.textContent = o.label;
  el.setAttribute('title', o.title);
  el.checked = o.checked;
  // The toolkit fires `change` also when `checked` is set from code; only user changes count.
  let fromCode = false;
  el.addEventListener('change', () => {
    if (!fromCode) o.onChange(el.checked);
  });
  return {
    el,
    get checked() {
      return el.checked;
    },
    set checked(v: boolean) {
      if (el.checked === v) return;
      fromCode = true;
      el.checked = v;
      fromCode = false;
    },
    setDisabled: (d) => el.toggleAttribute('disabled', d),
  };
}

export interface DropdownControl extends Control {
  value: string;
  setOptions(options: readonly { value: string; label: string }[]): void;
}

export function dropdown(o: {
  title: string;
  options: readonly { value: string; label: string }[];
  onChange: (value: string) => void;
}): DropdownControl {
  const el = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  el.setAttribute('title', o.title);
  el.setAttribute('aria-label', o.title);
  let fromCode = false;
  const setOptions = (options: readonly { value: string; label: string }[]): void => {
    fromCode = true;
    const keep = el.value;
    el.replaceChildren(
      ...options.map((opt) => {
        const option = document.createElement('vscode-option') as HTMLElement & { value: string };
        option.value = opt.value;
        option.textContent = opt.label;
        return option;
      }),
    );
    if (options.some((opt) => opt.value === keep)) el.value = keep;
    fromCode = false;
  };
  setOptions(o.options);
  el.addEventListener('change', () => {
    if (!fromCode) o.onChange(el.value);
  });
  return {
    el,
    get value() {
      return el.value;
    },
    set value(v: string) {
      fromCode = true;
      el.value = v;
      fromCode = false;
    },
    setOptions,
    setDisabled: (d) => el.toggleAttribute('disabled', d),
  };
}

/**
 * A count badge. Drawn with our own element and the theme's badge colours: the toolkit's
 * `vscode-badge` template sets an inline `style` attribute, which the strict CSP refuses.
 */
export function badge(text: string, title: string): HTMLElement & { setText(t: string): void } {
  const el = document.createElement('span') as HTMLElement & { setText(t: string): void };
  el.className = 'count-badge';
  el.textContent = text;
  el.setAttribute('title', title);
  el.setText = (t) => {
    el.textContent = t;
  };
  return el;
}

export function divider(): HTMLElement {
  const el = document.createElement('vscode-divider');
  el.setAttribute('role', 'presentation');
  return el;
}
