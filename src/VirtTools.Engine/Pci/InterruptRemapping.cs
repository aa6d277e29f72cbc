using System.Globalization;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Whether the host remaps interrupts, without which vfio_iommu_type1 refuses a group ("No interrupt remapping
/// support") unless allow_unsafe_interrupts is set. Support is a hardware bit (Intel ecap bit 3 under
/// /sys/class/iommu/dmar*/intel-iommu; an AMD-Vi ivhd* unit); enabled is only shown by the kernel: IR- interrupt
/// chips (IR-IO-APIC, IR-PCI-MSI) or its boot line ("DMAR-IR: Enabled IRQ remapping", "AMD-Vi: Interrupt remapping enabled").
/// </summary>
public static class InterruptRemapping
{
    public const string Check = "InterruptRemapping";
    public const string AllowUnsafePath = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
    private const string IommuClass = "/sys/class/iommu";
    private const int EcapInterruptRemapping = 1 << 3;
    // The ring buffer holds about a megabyte; the boot lines are at its start while they last.
    private const int LogRecords = 50_000;
    private const long LogBytes = 8L << 20;
    private static readonly string[] EnabledLines = { "Enabled IRQ remapping", "Interrupt remapping enabled" };

    public static PciReadinessFinding Judge(SystemRoot root)
    {
        var allowUnsafe = root.ReadText(AllowUnsafePath)?.Trim();
        var unsafeNote = allowUnsafe is null ? "" : $"; {AllowUnsafePath}: {allowUnsafe}";
        bool unsafeAllowed = allowUnsafe is "Y" or "1";

        if (EnabledEvidence(root, out var log) is { } enabled)
            return new(Check, PciReadinessResult.Pass, enabled + unsafeNote, "The kernel remaps interrupts: a guest cannot forge MSIs to the host.");

        var units = root.Directory(IommuClass).EntryNames();
        var support = new List<string>();
        bool missing = false;
        foreach (var unit in units.Where(u => u.StartsWith("dmar", StringComparison.Ordinal)))
        {
            var path = $"{IommuClass}/{unit}/intel-iommu/ecap";
            var ecap = root.ReadText(path)?.Trim();
            bool? bit = ulong.TryParse(ecap, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
                ? (value & EcapInterruptRemapping) != 0 : null;
            support.Add($"{path}: {ecap ?? "missing"} (IR bit 3 {bit switch { true => "set", false => "clear", null => "unreadable" }})");
            missing |= bit == false;
        }
        foreach (var unit in units.Where(u => u.StartsWith("ivhd", StringComparison.Ordinal)))
            support.Add($"{IommuClass}/{unit}: AMD-Vi unit (supports interrupt remapping)");
        var cmdline = root.ReadText("/proc/cmdline") ?? "";
        bool switchedOff = cmdline.Split(' ', '\n').Contains("intremap=off");
        if (switchedOff) support.Add("/proc/cmdline: intremap=off");

        if (support.Count == 0)
            return new(Check, unsafeAllowed ? PciReadinessResult.Warn : PciReadinessResult.Unknown,
                $"{IommuClass}: no dmar or ivhd unit; {log}{unsafeNote}",
                "No Intel or AMD IOMMU unit is listed, so interrupt remapping cannot be judged here.");
        var evidence = string.Join("; ", support) + "; " + log + unsafeNote;
        if (missing || switchedOff)
            return unsafeAllowed
                ? new(Check, PciReadinessResult.Warn, evidence,
                    "No interrupt remapping, and allow_unsafe_interrupts lets vfio go on without it: a guest can forge MSIs to the host.")
                : new(Check, PciReadinessResult.Fail, evidence,
                    "No interrupt remapping: vfio_iommu_type1 refuses the group when a VM starts. Enable it (firmware x2APIC/IR, no intremap=off) or, knowingly, set allow_unsafe_interrupts=1.");
        return new(Check, unsafeAllowed ? PciReadinessResult.Warn : PciReadinessResult.Unknown, evidence,
            "The hardware supports interrupt remapping, but nothing the kernel shows says it is enabled (supported is not enabled): no IR- interrupt chip, no boot line in the kernel log.");
    }

    /// <summary>An IR- interrupt chip the kernel registered, or its boot line; null when neither is seen.</summary>
    private static string? EnabledEvidence(SystemRoot root, out string logNote)
    {
        logNote = "";
        var irqs = root.Directory("/sys/kernel/irq");
        foreach (var irq in irqs.EntryNames())
            if (irqs.String(irq + "/chip_name") is { } chip && chip.StartsWith("IR-", StringComparison.Ordinal))
                return $"/sys/kernel/irq/{irq}/chip_name: {chip}";
        if (root.ReadText("/proc/interrupts") is { } interrupts
            && interrupts.Split('\n').FirstOrDefault(l => l.Contains(" IR-", StringComparison.Ordinal)) is { } line)
            return $"/proc/interrupts: {line.Trim()}";
        using var log = KernelLog.OpenAtStart(root);
        var enabled = log?.Records(LogRecords, LogBytes)
            .FirstOrDefault(r => EnabledLines.Any(e => r.Message.Contains(e, StringComparison.Ordinal)));
        logNote = log is null ? $"{KernelLog.DevicePath}: not readable" : $"{KernelLog.DevicePath}: no remapping line";
        return enabled is null ? null : $"{KernelLog.DevicePath}: {enabled.Message}";
    }
}
