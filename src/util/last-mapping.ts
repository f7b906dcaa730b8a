/**
 * `map`, giving its last result again while its argument is the very object it was given last time. For values
 * that are never changed once made and mostly repeat from one update to the next (an image's attributes), so that
 * a repeat costs one comparison.
 */
export function lastMapping<From extends object, To>(map: (from: From) => To): (from: From) => To {
  let lastFrom: From | undefined;
  let lastTo: To | undefined;
  return (from) => {
    if (from !== lastFrom) {
      lastTo = map(from);
      lastFrom = from;
    }
    return lastTo as To;
  };
}
