namespace VirtTools.Config;

/// <summary>What Sync-VirtHostConfig did with one item of the profile.</summary>
public enum SyncOutcome
{
    /// <summary>The item was already as the profile says; nothing was written.</summary>
    Unchanged,
    /// <summary>The item drifted and the change was made and verified.</summary>
    Applied,
    /// <summary>The item drifts but was left alone: -WhatIf, a "no" at -Confirm, or nothing here can apply it (see Message).</summary>
    Skipped,
    /// <summary>The change started, a step failed, and what had been written was undone.</summary>
    RolledBack,
    /// <summary>The change was refused before anything was written (a check, an interlock, the kernel), or it did not take.</summary>
    Failed,
}
