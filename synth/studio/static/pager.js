// Page R: the Real Time Composer.
export const TITLE = "REAL TIME COMPOSER";

export function render(area) {
  const p = document.createElement("p");
  p.textContent = "PAGE R: SONGS ARE NOT AVAILABLE IN THIS BUILD.";
  area.append(p);
}
