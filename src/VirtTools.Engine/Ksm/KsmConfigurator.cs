using System.Globalization;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Ksm;

/// <summary>
/// Changes KSM tunables in two steps: <see cref="Plan"/> checks every requested value and that this kernel has
/// each attribute before anything is written; <see cref="Apply"/> writes one planned value and explains refusals.
/// </summary>
public static class KsmConfigurator
{
    /// <summary>
    /// The writes for <paramref name="settings"/>, in the order the kernel needs them: an Unmerge first (it frees
    /// the shared pages that block max_page_sharing and merge_across_nodes), the advisor (it owns pages_to_scan),
    /// the other tunables, then Run or Stop last.
    /// </summary>
    public static IReadOnlyList<KsmAttributeWrite> Plan(SystemRoot root, KsmSettings settings)
    {
        var ksm = root.Directory(KsmReader.KsmDirectory);
        if (!ksm.Exists) throw KsmReader.NotAvailable(root);

        var writes = new List<KsmAttributeWrite>();
        void Add(string attribute, string parameter, string? since, object? value, string text, string description)
        {
            if (value is null) return;
            if (!ksm.Has(attribute)) throw NotSupported(root, attribute, parameter, since);
            writes.Add(new KsmAttributeWrite(attribute, text, description));
        }
        static string Number(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";
        static string Flag(bool? v) => v == true ? "1" : "0";

        Require(settings.PagesToScan is null or > 0, "PagesToScan", settings.PagesToScan, "must be at least 1");
        Require(settings.SleepMilliseconds is null or >= 0, "SleepMilliseconds", settings.SleepMilliseconds, "must be 0 or more");
        Require(settings.MaxPageSharing is null or >= 2, "MaxPageSharing", settings.MaxPageSharing, "must be at least 2 (the kernel's minimum)");
        Require(settings.AdvisorMode is null or "none" or "scan-time", "AdvisorMode", settings.AdvisorMode, "must be 'none' or 'scan-time'");
        Require(settings.Run is null || Enum.IsDefined(settings.Run.Value), "Run", settings.Run, "must be Stop, Run or Unmerge");

        // With the advisor on the kernel owns pages_to_scan and answers EINVAL; say so before writing anything.
        var advisor = KsmReader.SelectedChoice(ksm.String("advisor_mode"));
        Require(settings.PagesToScan is null || advisor is null or "none" || settings.AdvisorMode == "none", "PagesToScan", settings.PagesToScan,
            "cannot be set while advisor_mode is scan-time (the advisor tunes it); add -AdvisorMode none");

        int? run = (int?)settings.Run;
        if (settings.Run == KsmRunState.Unmerge) Add("run", "Run", null, run, "2", "Stop KSM and unmerge every shared page");
        Add("advisor_mode", "AdvisorMode", "6.8", settings.AdvisorMode, settings.AdvisorMode ?? "", $"Set the scan advisor to {settings.AdvisorMode}");
        Add("pages_to_scan", "PagesToScan", null, settings.PagesToScan, Number(settings.PagesToScan), $"Scan {settings.PagesToScan} pages per batch");
        Add("sleep_millisecs", "SleepMilliseconds", null, settings.SleepMilliseconds, Number(settings.SleepMilliseconds), $"Sleep {settings.SleepMilliseconds} ms between batches");
        Add("max_page_sharing", "MaxPageSharing", "4.13", settings.MaxPageSharing, Number(settings.MaxPageSharing), $"Share one KSM page at most {settings.MaxPageSharing} times");
        Add("merge_across_nodes", "MergeAcrossNodes", "3.9 built with CONFIG_NUMA", settings.MergeAcrossNodes, Flag(settings.MergeAcrossNodes), $"Merge across NUMA nodes: {settings.MergeAcrossNodes}");
        Add("use_zero_pages", "UseZeroPages", "4.12", settings.UseZeroPages, Flag(settings.UseZeroPages), $"Map empty pages to the kernel zero page: {settings.UseZeroPages}");
        Add("smart_scan", "SmartScan", "6.7", settings.SmartScan, Flag(settings.SmartScan), $"Skip pages that keep failing to merge: {settings.SmartScan}");
        if (settings.Run is KsmRunState.Run or KsmRunState.Stop)
            Add("run", "Run", null, run, Number(run), settings.Run == KsmRunState.Run ? "Start KSM" : "Stop KSM (merged pages stay merged)");
        return writes;
    }

    /// <summary>Writes one planned value; a refusal becomes an error that says why and what to do.</summary>
    public static void Apply(SystemRoot root, KsmAttributeWrite write)
    {
        // Opened before the write: a refusal quotes what the kernel said about KSM meanwhile, if anything.
        using var kernelLog = KernelLog.OpenAtEnd(root);
        try
        {
            SysfsWriter.Write(root, write.SystemPath, write.Value);
        }
        catch (KernelWriteException e) when (e.Errno == KernelErrno.EBUSY)
        {
            throw new VirtToolsException(KsmErrors.PagesSharedId, FailureKind.ResourceBusy,
                $"The kernel refuses to change {write.Attribute} while KSM pages are shared (EBUSY).{KernelLog.Quote(kernelLog, KsmReader.LogName)}",
                "Run 'Set-KsmConfig -Run Unmerge' first to unmerge every shared page, change the setting, then 'Set-KsmConfig -Run Run'.",
                write.SystemPath, e);
        }
        catch (KernelWriteException e) when (e.Errno == KernelErrno.EINVAL)
        {
            var hint = write.Attribute == "pages_to_scan"
                ? "The kernel ignores pages_to_scan while advisor_mode is scan-time: set -AdvisorMode none first."
                : "Check the value against Documentation/admin-guide/mm/ksm.rst for this kernel.";
            throw new VirtToolsException(KsmErrors.ValueRejectedId, FailureKind.InvalidArgument,
                $"The kernel rejected '{write.Value}' for {write.Attribute} (EINVAL).{KernelLog.Quote(kernelLog, KsmReader.LogName)}", hint, write.SystemPath, e);
        }
    }

    private static void Require(bool valid, string parameter, object? value, string rule)
    {
        if (!valid)
            throw new VirtToolsException(KsmErrors.InvalidValueId, FailureKind.InvalidArgument,
                $"-{parameter} {value} is not valid: it {rule}.", $"Give -{parameter} a value that {rule}.", value);
    }

    private static VirtToolsException NotSupported(SystemRoot root, string attribute, string parameter, string? since)
    {
        var kernel = SysfsText.ReadValue(root.Resolve("/proc/sys/kernel/osrelease"));
        var needs = since is null ? "a kernel that has it" : $"Linux {since} or newer";
        return new VirtToolsException(KsmErrors.SettingNotSupportedId, FailureKind.NotEnabled,
            $"This kernel{(kernel is null ? "" : $" ({kernel})")} has no {KsmReader.KsmDirectory}/{attribute}, so -{parameter} cannot be set.",
            $"-{parameter} needs {needs}.", attribute);
    }
}
