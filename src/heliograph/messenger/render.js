// How one message's content looks in the web messenger (docs/messenger.md, "How messages look").
// hgRenderContent(message, ui) builds the DOM of a v2 message's `content`, for every content type and
// action type of the spec. Message data only ever reaches the page as text nodes and checked URLs:
// markdown and htmlText are rebuilt element by element, never assigned as markup.
// Plain top-level functions, concatenated by messenger/__init__.py with core.js into one bundle.

const HG_LINK_SCHEMES = ["http:", "https:", "mailto:"];
const HG_MEDIA_SCHEMES = ["http:", "https:", "blob:"];
const HG_EMAIL = /^[^@\s]+@[^@\s]+$/;  // the server's EMAIL_PATTERN (schemas/common.py)
const HG_FORMATS = {
  integer: { pattern: /^-?\d+$/, problem: "formErrorWholeNumber" }, // the problem: a key of text.js
  decimal: { pattern: /^-?\d+(\.\d+)?$/, problem: "formErrorNumber" },
};
const HG_TEXT_SIZE = { min: 1, max: 128 };  // the spec's defaults of a text field's minSize and maxSize
const HG_IDS = { next: 0 };  // element ids unique within the widget's shadow root
const HG_INLINE = new RegExp([
  "(`+)([^`]|[^`][\\s\\S]*?[^`])\\1(?!`)",                 // 1, 2: `code`
  "\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*",                    // 3: **bold**
  "(?<!\\w)__(?=\\S)([\\s\\S]*?\\S)__(?!\\w)",             // 4: __bold__
  "~~(?=\\S)([\\s\\S]*?\\S)~~",                            // 5: ~~strike~~
  "\\*(?=[^\\s*])([\\s\\S]*?[^\\s*])\\*(?!\\*)",           // 6: *italic*
  "(?<!\\w)_(?=[^\\s_])([\\s\\S]*?[^\\s_])_(?!\\w)",       // 7: _italic_
  "\\[([^\\]\\n]+)\\]\\(\\s*([^)\\s]+)\\s*\\)",            // 8, 9: [text](url)
  "<((?:https?://|mailto:)[^>\\s]+)>",                     // 10: <url>
  "(https?://[^\\s<]*[^\\s<.,:;\"'!?)\\]])",               // 11: a bare url
].join("|"), "g");
const HG_HTML_TAGS = {
  P: "p", BR: "br", STRONG: "strong", B: "strong", EM: "em", I: "em", S: "s", DEL: "s", STRIKE: "s",
  CODE: "code", PRE: "pre", UL: "ul", OL: "ol", LI: "li", BLOCKQUOTE: "blockquote", A: "a",
  H1: "p", H2: "p", H3: "p", H4: "p", H5: "p", H6: "p", HR: "hr",
};
const HG_HTML_DROPPED = ["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT", "EMBED", "NOSCRIPT", "SVG", "MATH",
  "HEAD", "TITLE", "TEXTAREA", "SELECT", "BUTTON", "INPUT", "FORM"];
const HG_RENDERERS = {
  text: hgRenderText, image: hgRenderImage, file: hgRenderFile, location: hgRenderLocation,
  carousel: hgRenderCarousel, list: hgRenderList, form: hgRenderForm, formResponse: hgRenderFormResponse,
};

// ---- entry point -------------------------------------------------------------------------------

function hgRenderContent(message, ui) {
  const content = (message && message.content) || {};
  const from = message && message.author && message.author.type === "user" ? "user" : "business";
  const root = hgEl("div", `hg-content hg-content-${hgClassName(content.type)} hg-by-${from}`);
  root.dataset.contentType = String(content.type || "unknown");
  const render = Object.prototype.hasOwnProperty.call(HG_RENDERERS, content.type)
    ? HG_RENDERERS[content.type] : hgRenderFallback;
  render(root, content, String((message && message.id) || ""), ui);
  return root;
}

// ---- content types -----------------------------------------------------------------------------

function hgRenderText(root, content, id, ui) {
  const bubble = hgEl("div", "hg-balloon");
  if (typeof content.htmlText === "string" && content.htmlText) bubble.append(hgRichText(content.htmlText));
  else if (content.text) bubble.append(hgMarkdown(content.text));
  root.append(bubble);
  hgAppendActions(root, bubble, content.actions, id, ui);
  if (!bubble.childNodes.length) bubble.remove();
}

function hgRenderImage(root, content, id, ui) {
  const alt = hgString(content.altText) || hgText("image");
  const url = hgSafeUrl(content.mediaUrl, HG_MEDIA_SCHEMES);
  const figure = hgEl("figure", "hg-balloon hg-media");
  const img = hgEl("img", "hg-image");
  img.alt = alt;
  img.loading = "lazy";
  if (url) {
    img.src = url;
    const open = hgLink(url, "hg-image-open", hgText("openImage", { alt }));
    open.append(img);
    figure.append(open);
  } else {
    figure.append(img);
  }
  hgAppendCaption(figure, content);
  root.append(figure);
  hgAppendActions(root, figure, content.actions, id, ui);
}

function hgRenderFile(root, content, id, ui) {
  const url = hgSafeUrl(content.mediaUrl, HG_MEDIA_SCHEMES);
  const name = hgString(content.altText) || hgFileName(content.mediaUrl) || hgText("file");
  const size = hgFileSize(content.mediaSize);
  const bubble = hgEl("div", "hg-balloon hg-attachment");
  const icon = hgEl("span", "hg-attachment-icon", hgFileExtension(name));
  icon.setAttribute("aria-hidden", "true");
  const about = hgEl("span", "hg-attachment-about");
  about.append(hgEl("span", "hg-attachment-name", name));
  if (size) about.append(hgEl("span", "hg-attachment-size", size));
  bubble.append(icon, about);
  if (url) {
    const download = hgLink(url, "hg-attachment-download", hgText(size ? "downloadSized" : "downloadNamed", { name, size }));
    download.setAttribute("download", name);
    download.append(hgEl("span", "", hgText("download")));
    bubble.append(download);
  }
  hgAppendCaption(bubble, content);
  root.append(bubble);
  hgAppendActions(root, bubble, content.actions, id, ui);
}

function hgRenderLocation(root, content) {
  const coordinates = content.coordinates || {};
  const place = content.location || {};
  const lat = Number(coordinates.lat);
  const long = Number(coordinates.long);
  const bubble = hgEl("div", "hg-balloon hg-location");
  const pin = hgEl("span", "hg-location-pin");
  pin.setAttribute("aria-hidden", "true");
  const about = hgEl("span", "hg-location-about");
  if (place.name) about.append(hgEl("span", "hg-location-name", place.name));
  if (place.address) about.append(hgEl("span", "hg-location-address", place.address));
  const valid = Number.isFinite(lat) && Number.isFinite(long);
  const shown = valid ? `${lat.toFixed(5)}, ${long.toFixed(5)}` : "";
  if (valid) about.append(hgEl("span", "hg-location-coordinates", shown));
  bubble.append(pin, about);
  if (valid) {
    const map = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${long}#map=16/${lat}/${long}`;
    const label = place.name || place.address || shown;
    bubble.append(hgLink(map, "hg-location-map", hgText("openOnMap", { label }), hgText("viewOnMap")));
  } else if (content.text) {
    about.append(hgMarkdown(content.text));
  }
  root.append(bubble);
}

function hgRenderCarousel(root, content, id, ui) {
  const items = Array.isArray(content.items) ? content.items : [];
  const ratio = content.displaySettings && content.displaySettings.imageAspectRatio === "square"
    ? "square" : "horizontal";
  const track = hgEl("div", `hg-carousel hg-ratio-${ratio}`);
  track.tabIndex = 0;
  track.setAttribute("role", "region");
  track.setAttribute("aria-label", hgText(items.length === 1 ? "carouselOne" : "carouselMany", { count: items.length }));
  const list = hgEl("ul", "hg-carousel-items");
  items.forEach((item, i) => list.append(hgCard(item, i, items.length, id, ui)));
  track.append(list);
  track.addEventListener("keydown", (event) => hgCarouselKey(event, track));
  const back = hgButton("hg-carousel-arrow hg-carousel-back", "\u2039", hgText("carouselPrevious"),
    () => hgCarouselMove(track, -1));
  const next = hgButton("hg-carousel-arrow hg-carousel-next", "\u203a", hgText("carouselNext"),
    () => hgCarouselMove(track, 1));
  const arrows = () => hgCarouselArrows(track, back, next);
  track.addEventListener("scroll", arrows, { passive: true });
  new ResizeObserver(arrows).observe(track);  // once laid out, and whenever the widget's width changes
  const frame = hgEl("div", "hg-carousel-frame");
  frame.append(track, back, next);
  root.append(frame);
}

function hgRenderList(root, content, id, ui) {
  const items = Array.isArray(content.items) ? content.items : [];
  const box = hgEl("div", "hg-list");
  const list = hgEl("ul", "hg-list-items");
  list.setAttribute("aria-label", hgText(items.length === 1 ? "listOne" : "listMany", { count: items.length }));
  items.forEach((item, i) => {
    const row = hgEl("li", "hg-list-item");
    const about = hgEl("div", "hg-list-about");
    about.append(hgEl("span", "hg-item-title", hgString(item.title)));
    if (item.description) about.append(hgEl("span", "hg-item-description", item.description));
    about.append(hgActionRow(item.actions, (n) => `${id}:${i}:${n}`, ui));
    row.append(about);
    const media = hgItemImage(item);
    if (media) row.append(media);
    list.append(row);
  });
  box.append(list);
  if (Array.isArray(content.actions) && content.actions.length) {
    box.append(hgActionRow(content.actions, (n) => `${id}:${n}`, ui, "hg-list-actions"));
  }
  root.append(box);
}

function hgRenderForm(root, content, id, ui) {
  const fields = Array.isArray(content.fields) ? content.fields : [];
  const form = hgEl("form", "hg-form");
  form.noValidate = true;
  form.setAttribute("aria-label", hgText("formLabel"));
  const set = hgEl("fieldset", "hg-form-fields");
  const controls = fields.map((field) => hgFormField(field));
  controls.forEach((control) => set.append(control.element));
  const submit = hgEl("button", "hg-action hg-form-submit", hgText("formSubmit"));
  submit.type = "submit";
  submit.setAttribute("aria-label", hgText("formSubmitLabel"));
  const problem = hgEl("p", "hg-form-error");
  problem.setAttribute("role", "alert");
  problem.hidden = true;
  form.append(set, problem, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    hgSubmitForm({ form, set, submit, problem, controls, id, ui });
  });
  root.append(form);
  const answered = content.submitted === true || Boolean(ui && ui.isFormAnswered && ui.isFormAnswered(id));
  if (answered) hgFormAnswered(form, set, submit);
}

function hgRenderFormResponse(root, content) {
  const fields = Array.isArray(content.fields) ? content.fields : [];
  const bubble = hgEl("div", "hg-balloon hg-form-response");
  if (!fields.length) {
    bubble.append(hgMarkdown(hgString(content.textFallback)));
  } else {
    const list = hgEl("dl", "hg-answers");
    fields.forEach((field) => {
      const row = hgEl("div", "hg-answer");
      row.append(hgEl("dt", "hg-answer-label", `${hgString(field.label || field.name)}:`),
        hgEl("dd", "hg-answer-value", hgAnswerValue(field)));
      list.append(row);
    });
    bubble.append(list);
  }
  root.append(bubble);
}

function hgRenderFallback(root, content) {
  const bubble = hgEl("div", "hg-balloon hg-fallback");
  const text = hgString(content.text) || hgString(content.textFallback);
  if (text) bubble.append(hgMarkdown(text));
  else bubble.append(hgEl("em", "hg-unsupported", hgText("unsupportedMessageType")));
  root.append(bubble);
}

// ---- pieces of content -------------------------------------------------------------------------

function hgCard(item, i, count, id, ui) {
  const card = hgEl("li", "hg-card");
  card.setAttribute("aria-label", hgText("cardLabel", { index: i + 1, count, title: hgString(item.title) }));
  const media = hgItemImage(item);
  if (media) card.append(media);
  const body = hgEl("div", "hg-card-body");
  body.append(hgEl("span", "hg-item-title", hgString(item.title)));
  if (item.description) body.append(hgEl("span", "hg-item-description", item.description));
  card.append(body, hgActionRow(item.actions, (n) => `${id}:${i}:${n}`, ui, "hg-card-actions"));
  return card;
}

function hgItemImage(item) {
  const url = hgSafeUrl(item.mediaUrl, HG_MEDIA_SCHEMES);
  if (!url) return null;
  const img = hgEl("img", "hg-item-image");
  img.src = url;
  img.alt = hgString(item.altText) || hgString(item.title);
  img.loading = "lazy";
  return img;
}

function hgCarouselKey(event, track) {
  const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity };
  if (event.target !== track || !(event.key in moves)) return;
  event.preventDefault();
  hgCarouselMove(track, moves[event.key]);
}

function hgCarouselMove(track, cards) {
  const card = track.querySelector(".hg-card");
  const step = card ? card.getBoundingClientRect().width + 8 : track.clientWidth * 0.8;
  const left = Number.isFinite(cards) ? cards * step : Math.sign(cards) * track.scrollWidth;
  track.scrollBy({ left, behavior: "smooth" });
}

function hgCarouselArrows(track, back, next) {
  back.hidden = track.scrollLeft <= 1;
  next.hidden = track.scrollLeft + track.clientWidth >= track.scrollWidth - 1;
}

function hgAppendCaption(parent, content) {
  const text = hgString(content.text);
  if (text && text !== content.altText) {
    const caption = hgEl(parent.tagName === "FIGURE" ? "figcaption" : "div", "hg-caption");
    caption.append(hgMarkdown(text));
    parent.append(caption);
  }
}

function hgAnswerValue(field) {
  if (field.type === "select" && Array.isArray(field.select)) {
    return field.select.map((option) => hgString(option.label || option.name)).join(", ");
  }
  return hgString(field[field.type]);
}

// ---- actions -----------------------------------------------------------------------------------

function hgAppendActions(root, bubble, actions, id, ui) {
  if (!Array.isArray(actions) || !actions.length) return;
  const replies = hgEl("div", "hg-replies");
  replies.setAttribute("role", "group");
  replies.setAttribute("aria-label", hgText("suggestedReplies"));
  const buttons = hgEl("div", "hg-actions");
  actions.forEach((action, n) => {
    if (action && action.type === "reply") replies.append(hgReplyChip(action, replies, ui));
    else buttons.append(hgAction(action, `${id}:${n}`, ui));
  });
  if (buttons.childNodes.length) bubble.append(buttons);
  if (replies.childNodes.length) root.append(replies);
}

function hgActionRow(actions, actionId, ui, className) {
  const row = hgEl("div", `hg-actions${className ? ` ${className}` : ""}`);
  (Array.isArray(actions) ? actions : []).forEach((action, n) => row.append(hgAction(action, actionId(n), ui)));
  return row;
}

function hgAction(action, actionId, ui) {
  const text = hgString(action && action.text);
  const type = action && action.type;
  if (type === "link") {
    const url = hgSafeUrl(action.uri, HG_LINK_SCHEMES);
    return url ? hgLink(url, "hg-action hg-action-link", hgText("opensInNewTab", { text }), text) : hgInert(text);
  }
  if (type === "buy") return hgBuy(action, text);
  if (type === "webview") {
    const url = hgSafeUrl(action.uri, HG_LINK_SCHEMES);
    if (!url) return hgInert(text);
    const options = action.size ? { webview: true, size: action.size } : { webview: true };
    return hgButton("hg-action hg-action-webview", text, text, () => ui.openUrl(url, options));
  }
  if (type === "postback") {
    const button = hgButton("hg-action hg-action-postback", text, text,
      () => hgBusy(button, () => ui.postback(actionId)));
    button.dataset.actionId = actionId;
    return button;
  }
  if (type === "locationRequest") {
    const button = hgButton("hg-action hg-action-location", text, hgText("sharesLocation", { text }),
      () => hgBusy(button, () => ui.shareLocation()));
    return button;
  }
  return hgInert(text);
}

function hgReplyChip(action, group, ui) {
  const text = hgString(action.text);
  const chip = hgButton("hg-reply", text, hgText("replyLabel", { text }), () => {
    const chips = Array.from(group.querySelectorAll("button"));
    chips.forEach((other) => { other.disabled = true; });
    chip.setAttribute("aria-busy", "true");
    Promise.resolve().then(() => ui.reply(text, hgString(action.payload))).then(() => {
      group.classList.add("hg-replies-used");
      chip.classList.add("hg-reply-chosen");
    }, () => chips.forEach((other) => { other.disabled = false; })).finally(() => {
      chip.removeAttribute("aria-busy");
    });
  });
  const icon = hgSafeUrl(action.iconUrl, HG_MEDIA_SCHEMES);
  if (icon) {
    const img = hgEl("img", "hg-reply-icon");
    img.src = icon;
    img.alt = "";
    chip.prepend(img);
  }
  return chip;
}

function hgBuy(action, text) {
  const price = hgPrice(action.amount, action.currency);
  const label = price ? `${text}, ${price}` : text;
  const url = hgSafeUrl(action.uri, HG_LINK_SCHEMES);
  const element = url ? hgLink(url, "hg-action hg-action-buy", hgText("opensInNewTab", { text: label }))
    : hgEl("span", "hg-action hg-action-buy hg-action-inert");
  element.append(hgEl("span", "hg-buy-text", text));
  if (price) element.append(hgEl("span", "hg-buy-price", price));
  return element;
}

function hgBusy(button, call) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.classList.remove("hg-action-failed");
  Promise.resolve().then(call).catch(() => button.classList.add("hg-action-failed")).finally(() => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  });
}

function hgInert(text) {
  return hgEl("span", "hg-action hg-action-inert", text);
}

// ---- forms -------------------------------------------------------------------------------------

function hgFormField(field) {
  const type = field.type === "email" || field.type === "select" ? field.type : "text";
  const element = hgEl(type === "select" ? "fieldset" : "div", `hg-form-field hg-form-field-${type}`);
  const error = hgEl("p", "hg-form-field-error");
  error.id = `hg-form-field-error-${HG_IDS.next++}`;
  error.hidden = true;
  const control = { field, type, element, error, inputs: [] };
  if (type === "select") {
    element.append(hgEl("legend", "hg-form-field-label", hgString(field.label)));
    element.setAttribute("aria-describedby", error.id);
    const options = hgEl("div", "hg-options");
    (Array.isArray(field.options) ? field.options : []).forEach((option) => {
      const row = hgEl("label", "hg-option");
      const box = hgEl("input", "hg-option-input");
      box.type = "checkbox";
      box.value = hgString(option.name);
      row.append(box, hgEl("span", "", hgString(option.label || option.name)));
      options.append(row);
      control.inputs.push(box);
    });
    element.append(options);
  } else {
    const label = hgEl("label", "hg-form-field-label");
    label.append(hgEl("span", "", hgString(field.label)));
    const input = hgEl("input", "hg-form-input");
    input.type = type === "email" ? "email" : "text";
    input.name = hgString(field.name);
    if (type === "email") input.autocomplete = "email";
    if (field.format) input.inputMode = field.format === "integer" ? "numeric" : "decimal";
    if (field.placeholder) input.placeholder = field.placeholder;
    input.setAttribute("aria-describedby", error.id);
    label.append(input);
    element.append(label);
    control.inputs.push(input);
  }
  element.append(error);
  element.addEventListener("input", () => hgFieldProblem(control, null));
  return control;
}

function hgFieldCheck(control) {
  const field = control.field;
  if (control.type === "select") {
    const chosen = control.inputs.filter((box) => box.checked).map((box) => ({ name: box.value }));
    return chosen.length ? { answer: { type: "select", name: field.name, select: chosen } }
      : { problem: hgText("formErrorChooseOne") };
  }
  const value = control.inputs[0].value.trim();
  if (!value) return { problem: hgText("formErrorRequired") };
  if (control.type === "email") {
    return HG_EMAIL.test(value) && value.length <= 128 ? { answer: { type: "email", name: field.name, email: value } }
      : { problem: hgText("formErrorInvalidEmail") };
  }
  const min = Number.isInteger(field.minSize) ? field.minSize : HG_TEXT_SIZE.min;
  const max = Number.isInteger(field.maxSize) ? field.maxSize : HG_TEXT_SIZE.max;
  if (value.length < min || value.length > max) {
    return { problem: min === max ? hgText("formErrorLength", { min }) : hgText("formErrorLengths", { min, max }) };
  }
  const format = Object.prototype.hasOwnProperty.call(HG_FORMATS, field.format) ? HG_FORMATS[field.format] : null;
  if (format && !format.pattern.test(value)) return { problem: hgText(format.problem) };
  return { answer: { type: "text", name: field.name, text: value } };
}

function hgFieldProblem(control, problem) {
  control.error.textContent = problem || "";
  control.error.hidden = !problem;
  control.element.classList.toggle("hg-form-field-invalid", Boolean(problem));
  control.inputs.forEach((input) => {
    if (problem) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  });
}

function hgSubmitForm(state) {
  const checks = state.controls.map((control) => hgFieldCheck(control));
  state.controls.forEach((control, n) => hgFieldProblem(control, checks[n].problem));
  const first = checks.findIndex((check) => check.problem);
  if (first >= 0) {
    state.controls[first].inputs[0].focus();
    return;
  }
  state.problem.hidden = true;
  state.set.disabled = true;
  state.submit.disabled = true;
  state.submit.textContent = hgText("messageSending");
  const answers = checks.map((check) => check.answer);
  Promise.resolve().then(() => state.ui.submitForm(state.id, answers)).then(() => {
    hgFormAnswered(state.form, state.set, state.submit);
  }, (error) => {
    state.set.disabled = false;
    state.submit.disabled = false;
    state.submit.textContent = hgText("formSubmit");
    state.problem.textContent = (error && error.message) || hgText("formNotSent");
    state.problem.hidden = false;
  });
}

function hgFormAnswered(form, set, submit) {
  form.classList.add("hg-form-answered");
  set.disabled = true;
  const status = hgEl("p", "hg-form-status", hgText("formSubmitted"));
  status.setAttribute("role", "status");
  submit.replaceWith(status);
}

// ---- text: markdown and htmlText ---------------------------------------------------------------

function hgMarkdown(text) {
  const root = hgEl("div", "hg-md");
  const lines = hgString(text).replace(/\r\n?/g, "\n").split("\n");
  let block = null;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    const fence = /^\s*```/.test(line);
    if (fence) {
      const code = [];
      for (n++; n < lines.length && !/^\s*```\s*$/.test(lines[n]); n++) code.push(lines[n]);
      const pre = hgEl("pre", "hg-code-block");
      pre.append(hgEl("code", "", code.join("\n")));
      root.append(pre);
      block = null;
    } else if (!line.trim()) {
      block = null;
    } else {
      block = hgMarkdownLine(root, block, line);
    }
  }
  return root;
}

function hgMarkdownLine(root, block, line) {
  const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
  const numbered = /^\s*\d{1,9}[.)]\s+(.*)$/.exec(line);
  const heading = /^\s*#{1,6}\s+(.*)$/.exec(line);
  const quote = /^\s*>\s?(.*)$/.exec(line);
  if (bullet || numbered) {
    const tag = bullet ? "UL" : "OL";
    if (!block || block.tagName !== tag) {
      block = hgEl(tag.toLowerCase(), "");
      root.append(block);
    }
    const item = hgEl("li", "");
    hgInline(item, (bullet || numbered)[1]);
    block.append(item);
    return block;
  }
  if (heading) {
    const strong = hgEl("p", "hg-heading");
    hgInline(strong, heading[1]);
    root.append(strong);
    return null;
  }
  const tag = quote ? "BLOCKQUOTE" : "P";
  if (block && block.tagName === tag) {
    block.append(hgEl("br", ""));
  } else {
    block = hgEl(tag.toLowerCase(), "");
    root.append(block);
  }
  hgInline(block, quote ? quote[1] : line);
  return block;
}

function hgInline(parent, text, inLink) {
  const pattern = new RegExp(HG_INLINE.source, "g");
  let at = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    parent.append(document.createTextNode(text.slice(at, match.index)));
    parent.append(hgInlineMatch(match, Boolean(inLink)));
    at = pattern.lastIndex;
  }
  parent.append(document.createTextNode(text.slice(at)));
}

function hgInlineMatch(match, inLink) {
  const [whole, , code, bold, bold2, strike, italic, italic2, label, href, angled, bare] = match;
  if (code !== undefined) return hgEl("code", "hg-code", code.replace(/^ (.*) $/, "$1"));
  const wraps = [["strong", bold ?? bold2], ["s", strike], ["em", italic ?? italic2]];
  for (const [tag, inner] of wraps) {
    if (inner !== undefined) {
      const element = hgEl(tag, "");
      hgInline(element, inner, inLink);
      return element;
    }
  }
  const url = inLink ? null : hgSafeUrl(href ?? angled ?? bare, HG_LINK_SCHEMES);
  if (!url) return document.createTextNode(whole);
  const link = hgLink(url, "hg-link", null);
  if (label !== undefined) hgInline(link, label, true);
  else link.textContent = angled ?? bare;
  return hgNamedLink(link);
}

function hgRichText(html) {
  const root = hgEl("div", "hg-md");
  const parsed = new DOMParser().parseFromString(html, "text/html");  // inert: nothing runs or loads
  hgCopyAllowed(root, parsed.body);
  root.querySelectorAll("a").forEach(hgNamedLink);
  return root;
}

function hgNamedLink(link) {
  const text = link.textContent.trim() || link.href;
  link.setAttribute("aria-label", link.target === "_blank" ? hgText("opensInNewTab", { text }) : text);
  return link;
}

function hgCopyAllowed(target, source) {
  for (const node of Array.from(source.childNodes)) {
    if (node.nodeType === Node.TEXT_NODE) {
      target.append(document.createTextNode(node.textContent));
    } else if (node.nodeType === Node.ELEMENT_NODE && !HG_HTML_DROPPED.includes(node.tagName.toUpperCase())) {
      const tag = HG_HTML_TAGS[node.tagName.toUpperCase()];
      const copy = tag ? hgRichElement(tag, node) : null;
      if (copy) target.append(copy);
      hgCopyAllowed(copy || target, node);
    }
  }
}

function hgRichElement(tag, node) {
  if (tag === "a") {
    const url = hgSafeUrl(node.getAttribute("href"), HG_LINK_SCHEMES);
    return url ? hgLink(url, "hg-link", null) : null;
  }
  const element = hgEl(tag, /^H\d$/.test(node.tagName) ? "hg-heading" : "");
  if (tag === "pre") element.className = "hg-code-block";
  else if (tag === "code" && node.parentElement && node.parentElement.tagName !== "PRE") element.className = "hg-code";
  return element;
}

// ---- small helpers -----------------------------------------------------------------------------

function hgEl(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined && text !== null) element.textContent = String(text);
  return element;
}

function hgButton(className, text, label, onClick) {
  const button = hgEl("button", className);
  button.type = "button";
  button.append(hgEl("span", "hg-action-text", text));
  button.setAttribute("aria-label", label || text);
  button.addEventListener("click", onClick);
  return button;
}

function hgLink(url, className, label, text) {
  const link = hgEl("a", className, text);
  link.href = url;
  if (!url.startsWith("mailto:")) {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  if (label) link.setAttribute("aria-label", label);
  return link;
}

function hgSafeUrl(value, schemes) {
  if (typeof value !== "string" || !value.trim()) return null;
  try {
    const url = new URL(value.trim());
    return schemes.includes(url.protocol) ? url.href : null;
  } catch (error) {
    return null;
  }
}

function hgString(value) {
  return value === undefined || value === null ? "" : String(value);
}

function hgClassName(type) {
  return typeof type === "string" && /^[A-Za-z]+$/.test(type) ? type : "unknown";
}

function hgFileName(url) {
  try {
    const path = new URL(String(url)).pathname;
    return decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
  } catch (error) {
    return "";
  }
}

function hgFileExtension(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 && name.length - dot <= 5 ? name.slice(dot + 1).toUpperCase() : hgText("fileBadge");
}

function hgFileSize(bytes) {
  const size = Number(bytes);
  if (!Number.isFinite(size) || size < 0) return "";
  if (size < 1024) return `${size} B`;
  const units = ["KB", "MB", "GB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function hgPrice(amount, currency) {
  const cents = Number(amount);
  if (!Number.isFinite(cents)) return "";
  const code = typeof currency === "string" && /^[A-Za-z]{3}$/.test(currency) ? currency.toUpperCase() : "USD";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: code }).format(cents / 100);
  } catch (error) {
    return `${(cents / 100).toFixed(2)} ${code}`;
  }
}
