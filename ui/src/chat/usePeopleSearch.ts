import { useEffect, useState } from "react";
import { searchPeople, type Person } from "../core";
import { describeCoreError } from "../coreError";

/** Wait this long after the last keystroke before asking the core. */
export const PEOPLE_SEARCH_DEBOUNCE_MS = 300;

export interface PeopleSearch {
  results: Person[];
  searching: boolean;
  error: string | null;
}

/** People matching `query`, asked for once typing pauses; the latest query wins. */
export function usePeopleSearch(query: string): PeopleSearch {
  const [state, setState] = useState<PeopleSearch & { query: string }>({
    query: "",
    results: [],
    searching: false,
    error: null,
  });
  const trimmed = query.trim();

  useEffect(() => {
    if (trimmed === "") return;
    let current = true;
    const timer = setTimeout(() => {
      searchPeople(trimmed).then(
        (results) => current && setState({ query: trimmed, results, searching: false, error: null }),
        (error: unknown) =>
          current && setState({ query: trimmed, results: [], searching: false, error: describeCoreError(error) }),
      );
    }, PEOPLE_SEARCH_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [trimmed]);

  if (trimmed === "") return { results: [], searching: false, error: null };
  // Until the answer for this query arrives, it is being searched.
  if (state.query !== trimmed) return { results: state.results, searching: true, error: null };
  return state;
}
