/**
 * Items separated by ", ", leaving out `except`; '' when nothing is left. Concatenated rather than
 * joined: Array#join costs several times more for the few items a verdict detail lists.
 */
export function commaList(items: readonly string[], except?: string): string {
  let text = '';
  for (let i = 0; i < items.length; i++) {
    if (items[i] !== except) text = text === '' ? items[i] : `${text}, ${items[i]}`;
  }
  return text;
}
