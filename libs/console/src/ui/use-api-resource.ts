import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorText, isAbort, SessionEndedError } from './api-client';

/** Data loaded from the API for a view: the last good data stays while reloading, so nothing jumps. */
export interface ApiResource<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

interface ResourceState<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

export function useApiResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): ApiResource<T> {
  const [state, setState] = useState<ResourceState<T>>({ data: null, error: null, loading: true });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ data: previous.data, error: null, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        // After a 401 the whole app goes back to sign-in; nothing to show here.
        if (controller.signal.aborted || isAbort(error) || error instanceof SessionEndedError) return;
        setState((previous) => ({ data: previous.data, error: errorText(error), loading: false }));
      },
    );
    return () => controller.abort();
    // The caller lists what `load` depends on, as with useEffect itself.
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { ...state, reload };
}
