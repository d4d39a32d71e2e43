// text.js: every sentence the web messenger shows or says to a screen reader, by key (docs/messenger.md,
// "Text"). `Heliograph.init({customText: {key: "…"}})` replaces any of them, in any language. Keys the
// hosted Web Messenger also has keep its names (headerText, inputPlaceholder, sendButtonText, messageSeen,
// …); the others are Heliograph's. `{name}`-style slots are filled where the text is used.
const HG_DEFAULT_TEXT = Object.freeze({
  // the launcher and the header
  launcherText: "Chat with us",
  launcherTextNamed: "Chat with {name}",
  openChat: "Open the chat",
  openChatNamed: "Open the chat with {name}",
  unreadOne: "{label}, 1 unread message",
  unreadMany: "{label}, {count} unread messages",
  headerText: "Messages",
  couldNotStart: "The messenger could not start: {reason}",
  couldNotStartRetrying: "The messenger could not start: {reason}. Trying again…",
  couldNotConnect: "The messenger cannot reach its server. Trying again…",
  serverUnreachable: "The server could not be reached",
  closeChat: "Close the chat",
  conversationListHeaderText: "Your conversations",
  newConversationButtonText: "New conversation",
  conversationNumbered: "Conversation {number}",
  couldNotStartConversation: "Could not start the conversation: {reason}",
  // the introduction
  introductionTitle: "Welcome",
  introductionText: "We're here to help. Ask us anything, and we'll answer as soon as we can.",
  // the log
  messagesLabel: "Messages",
  fetchHistory: "Show earlier messages",
  you: "You",
  theBusiness: "The business",
  typing: "{name} is typing…",
  messageSending: "Sending…",
  messageWaiting: "Waiting for the connection…",
  messageNotDelivered: "Not delivered: {reason}",
  messageSeen: "Seen",
  // the composer
  messageLabel: "Message",
  inputPlaceholder: "Type a message",
  sendButtonText: "Send",
  uploadDocument: "Send a file",
  uploadPhoto: "Send an image",
  shareLocation: "Send my location",
  imagesOnly: "Only images can be sent here",
  locationNotSupported: "This browser cannot share its location",
  locationServicesDenied: "This website may not read your location: allow it in the browser's settings",
  locationSendingFailed: "Your location could not be read",
  // the prechat form
  prechatCaptureGreetingText: "Before we start, tell us how to reach you.",
  prechatCaptureNameLabel: "Name",
  prechatCaptureNamePlaceholder: "Your name",
  prechatCaptureEmailLabel: "Email",
  prechatCaptureEmailPlaceholder: "you@example.com",
  prechatCaptureSubmit: "Start the conversation",
  // messages' content (render.js)
  unsupportedMessageType: "This message cannot be shown here.",
  image: "Image",
  openImage: "Open image: {alt}",
  file: "File",
  fileBadge: "FILE",
  download: "Download",
  downloadNamed: "Download {name}",
  downloadSized: "Download {name} ({size})",
  openOnMap: "Open {label} on a map",
  viewOnMap: "View on map",
  cardLabel: "{index} of {count}: {title}",
  carouselOne: "Carousel, 1 item",
  carouselMany: "Carousel, {count} items",
  carouselPrevious: "Previous items",
  carouselNext: "Next items",
  listOne: "List, 1 item",
  listMany: "List, {count} items",
  suggestedReplies: "Suggested replies",
  replyLabel: "Reply: {text}",
  opensInNewTab: "{text} (opens in a new tab)",
  sharesLocation: "{text} (shares your location)",
  formLabel: "Form",
  formSubmit: "Submit",
  formSubmitLabel: "Submit the form",
  formSubmitted: "Submitted",
  formNotSent: "The form could not be sent. Try again.",
  formErrorRequired: "This field is required",
  formErrorInvalidEmail: "Enter a valid email address",
  formErrorChooseOne: "Choose at least one option",
  formErrorLength: "Enter {min} characters",
  formErrorLengths: "Enter {min} to {max} characters",
  formErrorWholeNumber: "Enter a whole number",
  formErrorNumber: "Enter a number",
  webviewTitle: "Web view",
  closeWebview: "Close the web view",
});

const HG_CUSTOM_TEXT = {}; // what the page's customText replaced

// Take `custom` over the defaults: known keys with string values only; anything else is said once, on the
// console, and left out.
function hgSetText(custom) {
  for (const key of Object.keys(HG_CUSTOM_TEXT)) delete HG_CUSTOM_TEXT[key];
  if (!custom || typeof custom !== "object") return;
  for (const [key, value] of Object.entries(custom)) {
    if (Object.prototype.hasOwnProperty.call(HG_DEFAULT_TEXT, key) && typeof value === "string") HG_CUSTOM_TEXT[key] = value;
    else if (typeof value !== "string") console.warn(`Heliograph: customText.${key} is not a string`);
    else console.warn(`Heliograph: customText.${key} is not a text the messenger shows (docs/messenger.md, "Text")`);
  }
}

// Whether the page gave its own text for `key`.
function hgCustomized(key) {
  return Object.prototype.hasOwnProperty.call(HG_CUSTOM_TEXT, key);
}

// The text of `key`, its `{slot}`s filled from `values`.
function hgText(key, values) {
  const text = hgCustomized(key) ? HG_CUSTOM_TEXT[key] : HG_DEFAULT_TEXT[key];
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (slot, name) => (Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : slot));
}
