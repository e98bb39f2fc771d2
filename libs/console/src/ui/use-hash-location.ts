import { useEffect, useState } from 'preact/hooks';

/** The location hash ("#/sessions"), updated on every hashchange. */
export function useHashLocation(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = (): void => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}
