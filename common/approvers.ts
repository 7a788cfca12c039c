// An approver in a plan is a name, or a name with one or more OpenSSH ed25519 public keys
// (`{name: alice, key: "ssh-ed25519 AAAA… alice@laptop"}`; keys from an allowed_signers file are
// put there when the plan file is loaded). These helpers read either form; the run's status lists
// names only. Pure.
export type ApproverEntry = string | { name: string; key: string | string[] };

export function approverName(entry: ApproverEntry): string {
  return typeof entry === 'string' ? entry : entry.name;
}

/** The public key lines listed for this approver ([] for a plain name). */
export function approverKeys(entry: ApproverEntry | undefined): string[] {
  if (entry === undefined || typeof entry === 'string') return [];
  return Array.isArray(entry.key) ? entry.key : [entry.key];
}

export function approverNames(entries: readonly ApproverEntry[] | undefined): string[] {
  return (entries ?? []).map(approverName);
}

export function findApprover(entries: readonly ApproverEntry[] | undefined, name: string): ApproverEntry | undefined {
  return (entries ?? []).find((e) => approverName(e) === name);
}
