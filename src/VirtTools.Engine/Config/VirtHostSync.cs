using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Config;

/// <summary>
/// Compares a host profile with the host (<see cref="Test"/>) and brings the host in line (<see cref="Sync"/>):
/// only the items that drift, in a safe order (KSM, PCI passthrough, exports, attachments), each through the same
/// engine and interlocks as its cmdlet. A failed item is undone by its engine and the others go on; a second sync
/// finds nothing to do.
/// </summary>
public sealed class VirtHostSync
{
    private readonly SystemRoot _root;
    private readonly IUsbIpExportApplier _exporter;
    private readonly IUsbIpAttachmentApplier _attacher;

    /// <param name="root">The host to compare and change.</param>
    /// <param name="exporter">Shares devices through usbip-host (default: the engine Export-UsbIpDevice uses).</param>
    /// <param name="attacher">Attaches remote devices (default: the engine Connect-UsbIpDevice uses).</param>
    public VirtHostSync(SystemRoot root, IUsbIpExportApplier? exporter = null, IUsbIpAttachmentApplier? attacher = null)
    {
        _root = root;
        _exporter = exporter ?? new UsbIpExportApplier();
        _attacher = attacher ?? new UsbIpAttachmentApplier();
    }

    /// <summary>One drift object per item of the profile, in sync order. Reads only.</summary>
    public IReadOnlyList<VirtHostDrift> Test(VirtHostConfig config) => Evaluate(config).Select(i => i.Drift).ToList();

    /// <summary>
    /// Applies every drifting item that <paramref name="shouldApply"/> (given the drift and the action line)
    /// allows, and returns each item read again afterwards with its <see cref="SyncOutcome"/>. Throws before
    /// anything is written when the profile cannot be applied here as a whole (an export match fits several devices).
    /// </summary>
    public IReadOnlyList<VirtHostDrift> Sync(VirtHostConfig config, Func<VirtHostDrift, string, bool> shouldApply, CancellationToken cancellation = default)
    {
        var results = new List<(SyncOutcome Outcome, string? Action, string? Message, VirtToolsException? Error)>();
        foreach (var item in Evaluate(config))
        {
            cancellation.ThrowIfCancellationRequested();
            results.Add(Apply(item, shouldApply, cancellation));
        }
        var after = Test(config);
        return after.Zip(results, (drift, result) =>
        {
            // An applied change is verified by reading the item again: a write the kernel took but ignored is a failure.
            bool didNotTake = result.Outcome == SyncOutcome.Applied && !drift.InSync;
            return new VirtHostDrift
            {
                Area = drift.Area, Item = drift.Item, Desired = drift.Desired, Actual = drift.Actual, InSync = drift.InSync,
                Location = drift.Location, Root = drift.Root, Action = result.Action, Error = result.Error,
                Outcome = didNotTake ? SyncOutcome.Failed : result.Outcome,
                Message = didNotTake ? $"The change was made but the host still shows {drift.Actual ?? "nothing"}, not {drift.Desired}." : result.Message,
            };
        }).ToList();
    }

    private static (SyncOutcome, string?, string?, VirtToolsException?) Apply(DriftItem item, Func<VirtHostDrift, string, bool> shouldApply, CancellationToken cancellation)
    {
        if (item.PlanFix is null) return (SyncOutcome.Unchanged, null, null, null);
        DriftFix fix;
        try { fix = ApplierBoundary.Run($"Planning {item.Drift.Item}", item.Drift.Item, cancellation, item.PlanFix); }
        catch (VirtToolsException refused) { return (SyncOutcome.Failed, null, refused.Message, refused); }

        if (fix.Apply is null) return (SyncOutcome.Skipped, fix.Action, fix.SkipReason, null);
        if (!shouldApply(item.Drift, fix.Action)) return (SyncOutcome.Skipped, fix.Action, "Not confirmed (-WhatIf or -Confirm).", null);
        try
        {
            ApplierBoundary.Run(fix.Action, item.Drift.Item, cancellation, () => fix.Apply(cancellation));
            return (SyncOutcome.Applied, fix.Action, null, null);
        }
        catch (VirtToolsException failure)
        {
            // A fault nobody foresaw may have struck before the engine's own rollback could run: claim no rollback.
            var outcome = failure.ErrorId == ConfigErrors.UnexpectedFailureId ? SyncOutcome.Failed : fix.OnFailure;
            return (outcome, fix.Action, failure.Message, failure);
        }
    }

    private IEnumerable<DriftItem> Evaluate(VirtHostConfig config)
    {
        // Exports first: an ambiguous match refuses the whole profile before any item is looked at, let alone applied.
        var exports = UsbIpExportDrift.Evaluate(_root, config, _exporter).ToList();
        return KsmDrift.Evaluate(_root, config.Ksm)
            .Concat(PciPassthroughDrift.Evaluate(_root, config.PciPassthrough))
            .Concat(exports)
            .Concat(UsbIpAttachmentDrift.Evaluate(_root, config.UsbIp?.Attachments ?? Array.Empty<UsbIpAttachmentRule>(), _attacher))
            .ToList();
    }
}
