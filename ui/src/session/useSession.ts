import { useCallback, useEffect, useReducer } from "react";
import {
  cancelSignIn as cancelCoreSignIn,
  getAccounts,
  getCurrentAccount,
  onSessionEvent,
  signIn as startCoreSignIn,
  signOut as signOutOfCore,
  switchAccount as switchCoreAccount,
  type AccountProfile,
  type SignInProgress,
} from "../core";
import { describeCoreError } from "../coreError";

/** Where an interactive sign-in is: asked for, waiting for the browser, or not running. */
export type SignInPhase = "idle" | "starting" | "waitingForBrowser";

export interface SignInView {
  phase: SignInPhase;
  /** Why the last sign-in did not work, in the core's words; null when nothing went wrong. */
  error: string | null;
}

/** What an account waits for the person to approve in the browser, in words for a prompt. */
export interface Approval {
  account: AccountProfile;
  purpose: string;
}

export interface SessionView {
  /** True until the core has said who (if anyone) is signed in. */
  loading: boolean;
  /** The account in use; null when nobody is signed in. */
  account: AccountProfile | null;
  /** Every account signed in on this device (the current one included). */
  accounts: AccountProfile[];
  /** An account whose session ended and needs a new sign-in; it stays shown meanwhile. */
  expired: AccountProfile | null;
  /** An account that stays signed in but waits for an approval in the browser. */
  approval: Approval | null;
  signIn: SignInView;
  /** Why switching or signing out failed; null when nothing went wrong. */
  accountError: string | null;
  startSignIn: (loginHint: string | null) => void;
  cancelSignIn: () => void;
  dismissSignInError: () => void;
  switchAccount: (userId: string) => void;
  signOut: (userId: string) => void;
  dismissAccountError: () => void;
}

interface State {
  loading: boolean;
  account: AccountProfile | null;
  accounts: AccountProfile[];
  /** Bumped whenever the list of accounts may have changed. */
  accountsRevision: number;
  expired: AccountProfile | null;
  /** The account waits for the person to approve something in the browser. */
  approval: Approval | null;
  phase: SignInPhase;
  /** The login hint of the sign-in in progress (a "sign in again"). */
  loginHint: string | null;
  signInError: string | null;
  accountError: string | null;
}

type Action =
  | { type: "loaded"; account: AccountProfile | null }
  | { type: "loadFailed"; message: string }
  | { type: "accountChanged"; account: AccountProfile | null }
  | { type: "accountsLoaded"; accounts: AccountProfile[] }
  | { type: "signInStarted"; loginHint: string | null }
  | { type: "signInRefused"; message: string }
  | { type: "signInProgress"; progress: SignInProgress }
  | { type: "sessionExpired"; account: AccountProfile }
  | { type: "interactionRequired"; approval: Approval }
  | { type: "accountActionFailed"; message: string }
  | { type: "dismissSignInError" }
  | { type: "dismissAccountError" };

const initialState: State = {
  loading: true,
  account: null,
  accounts: [],
  accountsRevision: 0,
  expired: null,
  approval: null,
  phase: "idle",
  loginHint: null,
  signInError: null,
  accountError: null,
};

function withAccount(state: State, account: AccountProfile | null): State {
  return {
    ...state,
    loading: false,
    account,
    accountsRevision: state.accountsRevision + 1,
    // The banner is about the account in use: it goes when that account does.
    expired: state.expired !== null && account?.userId === state.expired.userId ? state.expired : null,
    approval: state.approval !== null && account?.userId === state.approval.account.userId ? state.approval : null,
  };
}

function reduce(state: State, action: Action): State {
  switch (action.type) {
    case "loaded":
    case "accountChanged":
      return withAccount(state, action.account);
    case "loadFailed":
      // Nobody can be shown as signed in; the sign-in screen says why.
      return { ...state, loading: false, account: null, signInError: action.message };
    case "accountsLoaded":
      return { ...state, accounts: action.accounts };
    case "signInStarted":
      return { ...state, phase: "starting", loginHint: action.loginHint, signInError: null };
    case "signInRefused":
      return { ...state, phase: "idle", loginHint: null, signInError: action.message };
    case "signInProgress":
      switch (action.progress.state) {
        case "waitingForBrowser":
          return { ...state, phase: "waitingForBrowser", signInError: null };
        case "signedIn": {
          const renewed = state.expired !== null && state.loginHint === state.expired.username;
          const approved = state.approval !== null && state.loginHint === state.approval.account.username;
          return {
            ...state,
            phase: "idle",
            loginHint: null,
            signInError: null,
            expired: renewed ? null : state.expired,
            approval: approved ? null : state.approval,
            accountsRevision: state.accountsRevision + 1,
          };
        }
        case "cancelled":
          return { ...state, phase: "idle", loginHint: null };
        case "failed":
          return { ...state, phase: "idle", loginHint: null, signInError: action.progress.error.message };
      }
      return state;
    case "sessionExpired":
      return { ...state, expired: action.account };
    case "interactionRequired":
      return { ...state, approval: action.approval };
    case "accountActionFailed":
      return { ...state, accountError: action.message };
    case "dismissSignInError":
      return { ...state, signInError: null };
    case "dismissAccountError":
      return { ...state, accountError: null };
  }
}

/**
 * Who is signed in, live: one read at start, then every account, sign-in and
 * session-expired event the core pushes. A pushed account is newer than the
 * initial read, so a read that answers after an event is ignored.
 */
export function useSession(): SessionView {
  const [state, dispatch] = useReducer(reduce, initialState);

  useEffect(() => {
    let mounted = true;
    let pushed = false;

    const unsubscribe = onSessionEvent((event) => {
      if (!mounted) return;
      switch (event.type) {
        case "account":
          pushed = true;
          dispatch({ type: "accountChanged", account: event.account });
          break;
        case "signIn":
          dispatch({ type: "signInProgress", progress: event.progress });
          break;
        case "sessionExpired":
          dispatch({ type: "sessionExpired", account: event.account });
          break;
        case "interactionRequired":
          dispatch({ type: "interactionRequired", approval: { account: event.account, purpose: event.purpose } });
          break;
      }
    });

    getCurrentAccount().then(
      (account) => {
        if (mounted && !pushed) dispatch({ type: "loaded", account });
      },
      (error: unknown) => {
        if (mounted && !pushed) dispatch({ type: "loadFailed", message: describeCoreError(error) });
      },
    );

    return () => {
      mounted = false;
      unsubscribe();
    };
  }, []);

  const signedIn = state.account !== null;
  const { accountsRevision } = state;
  useEffect(() => {
    if (!signedIn) return;
    let current = true;
    getAccounts().then(
      (accounts) => {
        if (current) dispatch({ type: "accountsLoaded", accounts });
      },
      (error: unknown) => {
        // The menu then offers no other accounts; the current one still works.
        console.warn("Could not list the signed-in accounts:", error);
      },
    );
    return () => {
      current = false;
    };
  }, [signedIn, accountsRevision]);

  const startSignIn = useCallback((loginHint: string | null) => {
    dispatch({ type: "signInStarted", loginHint });
    startCoreSignIn(loginHint).catch((error: unknown) =>
      dispatch({ type: "signInRefused", message: describeCoreError(error) }),
    );
  }, []);

  const cancelSignIn = useCallback(() => {
    // The core also answers with a `cancelled` progress event; going idle twice is harmless.
    cancelCoreSignIn().then(
      () => dispatch({ type: "signInProgress", progress: { state: "cancelled" } }),
      (error: unknown) => dispatch({ type: "signInRefused", message: describeCoreError(error) }),
    );
  }, []);

  const switchAccount = useCallback((userId: string) => {
    dispatch({ type: "dismissAccountError" });
    switchCoreAccount(userId).then(
      (account) => dispatch({ type: "accountChanged", account }),
      (error: unknown) => dispatch({ type: "accountActionFailed", message: describeCoreError(error) }),
    );
  }, []);

  const signOut = useCallback((userId: string) => {
    dispatch({ type: "dismissAccountError" });
    // The core follows with an `account` event: the next account, or nobody.
    signOutOfCore(userId).catch((error: unknown) =>
      dispatch({ type: "accountActionFailed", message: describeCoreError(error) }),
    );
  }, []);

  const dismissSignInError = useCallback(() => dispatch({ type: "dismissSignInError" }), []);
  const dismissAccountError = useCallback(() => dispatch({ type: "dismissAccountError" }), []);

  return {
    loading: state.loading,
    account: state.account,
    accounts: state.accounts,
    expired: state.expired,
    approval: state.approval,
    signIn: { phase: state.phase, error: state.signInError },
    accountError: state.accountError,
    startSignIn,
    cancelSignIn,
    dismissSignInError,
    switchAccount,
    signOut,
    dismissAccountError,
  };
}
