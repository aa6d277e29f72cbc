using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Sandbox;

/// <summary>
/// /sys/kernel/mm/ksm as mm/ksm.c (Linux 6.1) takes writes to it:
/// <list type="bullet">
/// <item>run: an unsigned number, else EINVAL; above 2 EINVAL. 2 (unmerge) breaks every merged page, so the page
///   counters (pages_shared, pages_sharing, pages_unshared, pages_volatile, the stable node counts, and on newer
///   kernels ksm_zero_pages and general_profit) fall to 0. 0 and 1 only stop or start ksmd; merging happens later.</item>
/// <item>pages_to_scan, sleep_millisecs: an unsigned number, else EINVAL.</item>
/// <item>max_page_sharing: a number below 2 is EINVAL; a change while pages are shared (pages_shared &gt; 0) EBUSY.</item>
/// <item>merge_across_nodes: 0 or 1, else EINVAL; a change while pages are shared EBUSY.</item>
/// <item>use_zero_pages: a kernel boolean (kstrtobool), else EINVAL.</item>
/// </list>
/// A write leaves the attribute showing the value as the kernel prints it back.
/// </summary>
public sealed class SandboxKsm
{
    public const string Directory = "/sys/kernel/mm/ksm";

    private static readonly string[] PageCounters =
    {
        "pages_shared", "pages_sharing", "pages_unshared", "pages_volatile", "stable_node_chains", "stable_node_dups",
        "ksm_zero_pages", "general_profit",
    };

    private readonly SandboxKernel _kernel;

    internal SandboxKsm(SandboxKernel kernel) => _kernel = kernel;

    /// <summary>Shows <paramref name="pages"/> pages shared by <paramref name="sharing"/> mappings, as after ksmd merged them.</summary>
    public SandboxKsm Merged(long pages, long sharing)
    {
        _kernel.Show(Directory + "/pages_shared", pages.ToString(CultureInfo.InvariantCulture) + "\n");
        _kernel.Show(Directory + "/pages_sharing", sharing.ToString(CultureInfo.InvariantCulture) + "\n");
        return this;
    }

    internal bool TryWrite(string systemPath, string text)
    {
        if (!systemPath.StartsWith(Directory + "/", StringComparison.Ordinal)) return false;
        var name = systemPath[(Directory.Length + 1)..];
        var value = SandboxKernel.Token(text);
        switch (name)
        {
            case "run":
                var run = Unsigned(value, systemPath);
                if (run > 2) throw SandboxKernel.Errno(KernelErrno.EINVAL, $"{systemPath} {run}");
                _kernel.RequireAttribute(systemPath);
                if (run == 2) foreach (var counter in PageCounters.Where(Has)) Show(counter, 0);
                Show(name, run);
                return true;
            case "pages_to_scan" or "sleep_millisecs":
                _kernel.RequireAttribute(systemPath);
                Show(name, Unsigned(value, systemPath));
                return true;
            case "max_page_sharing":
                _kernel.RequireAttribute(systemPath);
                var knob = Unsigned(value, systemPath);
                if (knob < 2) throw SandboxKernel.Errno(KernelErrno.EINVAL, $"{systemPath} {knob}");
                ChangeWhileUnshared(name, knob);
                return true;
            case "merge_across_nodes":
                _kernel.RequireAttribute(systemPath);
                var merge = Unsigned(value, systemPath);
                if (merge > 1) throw SandboxKernel.Errno(KernelErrno.EINVAL, $"{systemPath} {merge}");
                ChangeWhileUnshared(name, merge);
                return true;
            case "use_zero_pages":
                _kernel.RequireAttribute(systemPath);
                var on = SysfsText.ParseBool(value) ?? throw SandboxKernel.Errno(KernelErrno.EINVAL, systemPath);
                Show(name, on ? 1 : 0);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Stable-tree layout knobs: the kernel cannot rearrange a tree that still holds shared pages.</summary>
    private void ChangeWhileUnshared(string name, long value)
    {
        if (Read(name) == value) return;
        if (Read("pages_shared") > 0) throw SandboxKernel.Errno(KernelErrno.EBUSY, $"{Directory}/{name} while pages are shared");
        Show(name, value);
    }

    /// <summary>kstrtouint: decimal digits and at most one trailing newline (already stripped); anything else EINVAL.</summary>
    private static long Unsigned(string value, string systemPath) =>
        uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw SandboxKernel.Errno(KernelErrno.EINVAL, $"{systemPath} '{value}'");

    private bool Has(string name) => File.Exists(_kernel.Resolve(Directory + "/" + name));

    private long? Read(string name) => SysfsText.ParseLong(SysfsText.ReadValue(_kernel.Resolve(Directory + "/" + name)));

    private void Show(string name, long value) => _kernel.Show(Directory + "/" + name, value.ToString(CultureInfo.InvariantCulture) + "\n");
}
