// The studio's shared state: the voice being edited, the server's state and the page shown; and
// setVoice, which the shell and every page call with the voice the server sends back, so that
// whatever shows the voice (the shell's voice bar, the page on screen) is told of it.
export const studio = { voice: null, state: null, page: "4" };

const voiceListeners = [];

export function onVoice(listener) {
  voiceListeners.push(listener);
}

export function setVoice(voice) {
  studio.voice = voice;
  for (const listener of voiceListeners) listener(voice);
}
