// The run panel's browser side: renders the report (sanitised) and the waiting window as a form built from
// @vscode-elements/elements, checks values as the user types with the same validation the sandbox runs, and talks
// to the extension only through the typed message unions. State lives in vscode.setState, so hiding the panel
// loses nothing.

import { scriptStartedAt } from "./loadTiming";
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-checkbox/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-multi-select/index.js";
import "@vscode-elements/elements/dist/vscode-textarea/index.js";
import "@vscode-elements/elements/dist/vscode-textfield/index.js";
import DOMPurify from "dompurify";
import type { Field, WindowSpec } from "../protocol/fields";
import { unitLabel } from "../protocol/units";
import { checkField } from "../protocol/validate";
import type { FromWebviewMessage, PanelState, RunState, ToWebviewMessage } from "../protocol/webview";

interface VsCodeApi {
  postMessage(message: FromWebviewMessage): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const reportElement = document.querySelector<HTMLElement>("[data-report]")!;
const formElement = document.querySelector<HTMLElement>("[data-form]")!;
const stateElement = document.querySelector<HTMLElement>("[data-state]")!;
const sheetElement = document.querySelector<HTMLElement>(".uzc-sheet")!;
const errorElement = document.querySelector<HTMLElement>("[data-sheet-error]")!;
const noticeElement = document.querySelector<HTMLElement>("[data-notice]")!;
const runWithBox = document.querySelector<HTMLElement>("[data-run-with-box]")!;
const runWithSelect = document.querySelector<HTMLElement & { value: string }>("[data-run-with]")!;

let state: PanelState = vscode.getState() ?? { sheet: "", report: "", state: "idle" };

function save(): void {
  vscode.setState(state);
}

/** Report markup comes from sheets: sanitised (keeping MathML), no inline styles (the CSP forbids them anyway). */
function sanitize(html: string): string {
  return DOMPurify.sanitize(html, {
    // SVG for figures (drawn by the sandbox's trusted side; sanitised like everything else).
    USE_PROFILES: { html: true, mathMl: true, svg: true },
    ADD_TAGS: ["semantics", "annotation"],
    FORBID_ATTR: ["style"],
    FORBID_TAGS: ["style", "form", "input", "button", "meta", "base", "link"],
  });
}

function renderReport(): void {
  reportElement.innerHTML = sanitize(state.report);
}

function renderState(value: RunState, detail?: string): void {
  const words: Record<RunState, string> = {
    idle: "Ready",
    starting: "Starting…",
    running: "Running…",
    waiting: "Waiting for input",
    completed: "Completed",
    error: "Error",
    cancelled: "Cancelled",
  };
  stateElement.textContent = detail ? `${words[value]} · ${detail}` : words[value];
  stateElement.dataset.state = value;
  document.body.dataset.state = value;
  for (const control of formElement.querySelectorAll<HTMLElement & { disabled: boolean }>("[data-field], [data-action]"))
    control.disabled = value !== "waiting";
  // Only a finished run has a report to hand over.
  const compareButton = document.querySelector<HTMLElement & { disabled: boolean }>('header [data-action="compare"]');
  if (compareButton) compareButton.disabled = value !== "completed";
  const exports: [string, string][] = [
    ["export", "Save the report as one HTML file"],
    ["exportWord", "Save the report as a Word document, its equations editable"],
  ];
  for (const [action, title] of exports) {
    const button = document.querySelector<HTMLElement & { disabled: boolean }>(`header [data-action="${action}"]`);
    if (!button) continue;
    button.disabled = value !== "completed";
    button.title = value === "completed" ? title : "Export is available once the run completes";
  }
}

function renderNotice(): void {
  noticeElement.textContent = state.notice ?? "";
  noticeElement.hidden = !state.notice;
}

function renderSheetError(): void {
  const failure = state.sheetError;
  errorElement.hidden = !failure;
  errorElement.replaceChildren();
  if (!failure) return;
  const link = document.createElement("a");
  link.href = "#";
  link.textContent = failure.where;
  // The press does not move focus into the panel: the editor the link opens takes it (see keepFocusFromClick).
  link.addEventListener("mousedown", (event) => event.preventDefault());
  link.addEventListener("click", (event) => {
    event.preventDefault();
    if (failure.error.line !== undefined)
      vscode.postMessage({
        type: "reveal",
        line: failure.error.line,
        column: failure.error.column ?? 1,
        ...(failure.error.file ? { file: failure.error.file } : {}),
      });
  });
  const title = document.createElement("strong");
  title.textContent = `${failure.error.name ?? "Error"}: ${failure.error.message}`;
  errorElement.append(title, document.createTextNode(" at "), link);
  if (failure.error.stack) {
    const stack = document.createElement("pre");
    stack.textContent = failure.error.stack.split("\n").slice(1).join("\n");
    errorElement.append(stack);
  }
}

type Control = HTMLElement & { value: string | string[]; checked?: boolean; disabled: boolean };

function controlFor(field: Field, initial: unknown): Control {
  let control: Control;
  switch (field.type) {
    case "boolean": {
      control = document.createElement("vscode-checkbox") as unknown as Control;
      control.checked = initial === true;
      control.setAttribute("label", field.label);
      break;
    }
    case "selectOne":
    case "selectMany": {
      control = document.createElement(field.type === "selectOne" ? "vscode-single-select" : "vscode-multi-select") as unknown as Control;
      const chosen = Array.isArray(initial) ? initial.map(String) : initial === undefined || initial === null ? [] : [String(initial)];
      for (const option of field.options ?? []) {
        const element = document.createElement("vscode-option");
        element.setAttribute("value", String(option.value));
        element.textContent = option.label;
        if (chosen.includes(String(option.value))) element.setAttribute("selected", "");
        control.append(element);
      }
      break;
    }
    case "textarea": {
      control = document.createElement("vscode-textarea") as unknown as Control;
      control.value = typeof initial === "string" ? initial : "";
      control.setAttribute("rows", "4");
      break;
    }
    default: {
      // Numbers are text fields: "300 mm" into a field in m is a valid answer, parsed like the sandbox does.
      control = document.createElement("vscode-textfield") as unknown as Control;
      control.value = initial === undefined || initial === null ? "" : String(initial);
      if (field.placeholder) control.setAttribute("placeholder", field.placeholder);
      else if (field.type === "number" && field.unit)
        control.setAttribute("placeholder", `e.g. ${field.default ?? field.min ?? 1} ${unitLabel(field.unit)}`);
    }
  }
  control.dataset.field = field.name;
  control.id = `field-${field.name}`;
  return control;
}

function readValue(field: Field, control: Control): unknown {
  if (field.type === "boolean") return control.checked === true;
  if (field.type === "selectMany") {
    const value = control.value;
    return Array.isArray(value) ? value : value ? [value] : [];
  }
  if (field.type === "selectOne") {
    // Option values travel as text; the sandbox matches them back to numbers or booleans.
    return control.value === "" ? null : control.value;
  }
  return control.value;
}

function showFieldError(name: string, message: string | undefined): void {
  const element = formElement.querySelector<HTMLElement>(`[data-error="${CSS.escape(name)}"]`);
  if (!element) return;
  element.textContent = message ?? "";
  element.hidden = !message;
}

function collect(window: WindowSpec): { values: Record<string, unknown>; valid: boolean } {
  const values: Record<string, unknown> = {};
  let valid = true;
  for (const field of window.fields) {
    const control = formElement.querySelector<Control>(`[data-field="${CSS.escape(field.name)}"]`);
    if (!control) continue;
    const raw = readValue(field, control);
    values[field.name] = raw;
    const check = checkField(field, raw);
    showFieldError(field.name, check.ok ? undefined : check.message);
    if (!check.ok) valid = false;
  }
  return { values, valid };
}

/** An element with a class and text: the form's small pieces (captions, units, help, messages). */
function textElement<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = text;
  return element;
}

function renderForm(): void {
  const window = state.window;
  formElement.replaceChildren();
  formElement.hidden = !window;
  if (window) formElement.dataset.window = window.id;
  else delete formElement.dataset.window;
  if (!window) return;
  // After the next frame is painted: when the user can see the form.
  const arrived = messageArrivedAt;
  requestAnimationFrame(() => {
    const frame = performance.now();
    setTimeout(() => {
      // Built from a message (not from the state kept while the panel was hidden): where its time went.
      const paint =
        arrived > 0 && messageHandledAt >= arrived
          ? {
              arrivedAt: Math.round(performance.timeOrigin + arrived),
              renderMs: Math.round(messageHandledAt - arrived),
              frameMs: Math.round(frame - messageHandledAt),
            }
          : undefined;
      const at = Math.round(performance.timeOrigin + performance.now());
      vscode.postMessage({ type: "windowShown", window: window.id, at, ...(paint ? { paint } : {}) });
    });
  });
  formElement.append(textElement("h2", "", window.title));
  if (window.caption) formElement.append(textElement("p", "uzc-caption", window.caption));
  for (const field of window.fields) {
    const row = document.createElement("div");
    row.className = "uzc-field";
    const initial = state.values && field.name in state.values ? state.values[field.name] : field.default;
    const control = controlFor(field, initial);
    if (field.type !== "boolean") {
      const label = textElement("label", "", field.label + (field.required ? " *" : ""));
      label.htmlFor = control.id;
      if (field.unit) label.append(textElement("span", "uzc-unit", ` [${unitLabel(field.unit)}]`));
      row.append(label);
    }
    row.append(control);
    if (field.help) row.append(textElement("div", "uzc-help", field.help));
    const error = textElement("div", "uzc-field-error", "");
    error.dataset.error = field.name;
    error.hidden = true;
    row.append(error);
    // Checked as the user types, with the sandbox's own rules; the sandbox checks again on submit.
    control.addEventListener("input", () => {
      const check = checkField(field, readValue(field, control));
      showFieldError(field.name, check.ok ? undefined : check.message);
      state.values = { ...state.values, [field.name]: readValue(field, control) };
      save();
    });
    control.addEventListener("change", () => {
      state.values = { ...state.values, [field.name]: readValue(field, control) };
      save();
    });
    formElement.append(row);
    // Values restored from before the webview was rebuilt are shown with their messages, as when they were typed.
    if (state.values && field.name in state.values) {
      const check = checkField(field, state.values[field.name]);
      if (!check.ok) showFieldError(field.name, check.message);
    }
  }
  const actions = document.createElement("div");
  actions.className = "uzc-actions";
  const submit = document.createElement("vscode-button");
  submit.dataset.action = "submit";
  submit.textContent = "Continue";
  submit.addEventListener("click", () => submitForm());
  const cancel = document.createElement("vscode-button");
  cancel.dataset.action = "cancel";
  cancel.setAttribute("secondary", "");
  cancel.textContent = "Cancel run";
  cancel.addEventListener("click", () => vscode.postMessage({ type: "cancel" }));
  actions.append(submit, cancel);
  formElement.append(actions);
  for (const [name, message] of Object.entries(state.errors ?? {})) showFieldError(name, message);
  formElement.querySelector<HTMLElement>("[data-field]")?.focus();
}

/** "Run with": no set (every window a form), or one of the sheet's input sets; shown when the sheet has any. */
function renderInputSets(): void {
  const sets = state.inputSets ?? [];
  runWithBox.hidden = sets.length === 0;
  runWithSelect.replaceChildren(
    ...[{ value: "", text: "no input set (forms)" }, ...sets.map((set) => ({ value: set.name, text: `${set.name} · ${set.file}` }))].map(
      ({ value, text }) => {
        const option = document.createElement("vscode-option");
        option.setAttribute("value", value);
        option.textContent = text;
        if (value === (state.inputSet ?? "")) option.setAttribute("selected", "");
        return option;
      },
    ),
  );
  runWithSelect.value = state.inputSet ?? "";
}

runWithSelect.addEventListener("change", () => {
  const set = runWithSelect.value === "" ? null : runWithSelect.value;
  if (set === (state.inputSet ?? null)) return;
  vscode.postMessage({ type: "runWith", set });
});

/** Everything from `state`; `keepForm` leaves the form on screen as it is and only shows the sandbox's errors. */
function renderAll(funcName?: string, keepForm = false): void {
  sheetElement.textContent = funcName ? `${state.sheet} · ${funcName}` : state.sheet;
  renderInputSets();
  renderReport();
  if (keepForm) for (const [name, text] of Object.entries(state.errors ?? {})) showFieldError(name, text);
  else renderForm();
  renderSheetError();
  renderNotice();
  renderState(state.state, state.detail);
}

function submitForm(): void {
  const window = state.window;
  if (!window || state.state !== "waiting" || state.ui_steps === undefined) return;
  const { values, valid } = collect(window);
  state.values = values;
  save();
  // The submit names the window it answers: the extension refuses it if the run has moved on meanwhile.
  if (valid) vscode.postMessage({ type: "submit", window: window.id, ui_steps: state.ui_steps, values });
}

formElement.addEventListener("keydown", (event) => {
  // Enter submits, except in a multi-line field.
  if (event.key === "Enter" && !event.shiftKey && !(event.target instanceof HTMLElement && event.target.tagName === "VSCODE-TEXTAREA")) {
    event.preventDefault();
    submitForm();
  }
});

for (const button of document.querySelectorAll<HTMLElement>("header [data-action]")) {
  button.addEventListener("click", () => {
    const action = button.dataset.action;
    if (action === "rerun") vscode.postMessage({ type: "rerun" });
    if (action === "export") vscode.postMessage({ type: "export" });
    if (action === "exportWord") vscode.postMessage({ type: "exportWord" });
    if (action === "saveInputs") vscode.postMessage({ type: "saveInputs" });
    if (action === "compare") vscode.postMessage({ type: "compare" });
  });
}

/** When the message being handled arrived and when its handling ended (performance.now()): see WindowPaint. */
let messageArrivedAt = 0;
let messageHandledAt = 0;

window.addEventListener("message", (event: MessageEvent<ToWebviewMessage>) => {
  messageArrivedAt = performance.now();
  const message = event.data;
  switch (message.type) {
    case "reset":
      state = { sheet: message.sheet, uri: message.uri, report: "", state: "starting" };
      sheetElement.textContent = message.funcName ? `${message.sheet} · ${message.funcName}` : message.sheet;
      renderReport();
      renderForm();
      renderSheetError();
      renderNotice();
      break;
    case "restore": {
      // Values typed into the window still waiting survive; everything else is the extension's.
      const typed =
        state.window && message.state.window && state.window.id === message.state.window.id && state.sheet === message.state.sheet
          ? state.values
          : undefined;
      // The same window already on screen is left alone: the user may be in the middle of it (an open dropdown).
      const sameForm =
        message.state.window !== undefined && state.sheet === message.state.sheet && formElement.dataset.window === message.state.window.id;
      state = { ...message.state, ...(typed ? { values: typed } : {}) };
      renderAll(message.funcName, sameForm);
      break;
    }
    case "report":
      state.report = message.append ? state.report + message.html : message.html;
      if (message.append) reportElement.insertAdjacentHTML("beforeend", sanitize(message.html));
      else renderReport();
      break;
    case "window":
      state.window = message.window;
      state.ui_steps = message.ui_steps;
      state.values = message.values;
      state.errors = undefined;
      renderForm();
      break;
    case "fieldErrors":
      state.errors = message.errors;
      for (const [name, text] of Object.entries(message.errors)) showFieldError(name, text);
      break;
    case "state":
      state.state = message.state;
      state.detail = message.detail;
      state.notice = undefined;
      renderNotice();
      if (message.state !== "waiting" && message.state !== "running") {
        state.window = undefined;
        renderForm();
      }
      renderState(message.state, message.detail);
      break;
    case "sheetError":
      state.sheetError = { error: message.error, where: message.where };
      renderSheetError();
      break;
    case "notice":
      state.notice = message.message;
      renderNotice();
      break;
    case "inputSets":
      state.inputSets = message.sets;
      state.inputSet = message.selected;
      renderInputSets();
      break;
  }
  save();
  messageHandledAt = performance.now();
});

// Restore what the panel showed before it was hidden, then ask the extension for the current state.
renderAll();
vscode.postMessage({
  type: "ready",
  load: {
    scriptStartMs: Math.round(scriptStartedAt),
    readyMs: Math.round(performance.now()),
    documentStartedAt: Math.round(performance.timeOrigin),
  },
});
