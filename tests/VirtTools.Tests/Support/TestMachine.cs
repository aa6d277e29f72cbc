using VirtTools.Sysfs;
using Xunit;

namespace VirtTools.Tests.Support;

/// <summary>
/// A machine a live test runs on: this one ("/"), or a tree built from this machine's own host-probe files
/// (cpuinfo, /proc/sys/kernel, the device nodes of /dev, /sys/module, the IOMMU, DMI, Xen, vhci_hcd, KSM) with parts
/// left out or added. A live test never expects what this machine happens to have: it reads the same files itself
/// (<see cref="Has"/>, <see cref="Entries"/>, <see cref="Text"/>) and checks that the engine agrees, and running it on
/// the changed copies shows that it would hold on a machine without /dev/kvm, an IOMMU or KSM, or with an older KSM.
/// </summary>
public sealed class TestMachine : IDisposable
{
    public const string ThisMachine = "this machine";
    public const string CopyOfThisMachine = "a copy of this machine";
    public const string WithoutKvmIommuOrKsm = "the copy without /dev/kvm, IOMMU or KSM";
    public const string WithKvmIommuAndOldKsm = "the copy with /dev/kvm, IOMMU and 6.1's KSM";

    public static readonly string[] Names = { ThisMachine, CopyOfThisMachine, WithoutKvmIommuOrKsm, WithKvmIommuAndOldKsm };

    /// <summary>Every machine by name, for [MemberData].</summary>
    public static TheoryData<string> All => new(Names);

    /// <summary>KSM attributes that kernels up to 6.1 do not have (6.4 added general_profit, 6.7 smart_scan, 6.8 the advisor...).</summary>
    private static readonly string[] KsmAttributesNewerThan61 =
    {
        "general_profit", "ksm_zero_pages", "pages_scanned", "pages_skipped", "smart_scan",
        "advisor_mode", "advisor_max_cpu", "advisor_min_pages_to_scan", "advisor_max_pages_to_scan", "advisor_target_scan_time",
    };

    private const string Ksm = "/sys/kernel/mm/ksm";

    /// <summary>Single files the probes read, copied with their text when this machine has them.</summary>
    private static readonly string[] ProbedFiles =
    {
        "/proc/cpuinfo", "/proc/sys/kernel/hostname", "/proc/sys/kernel/osrelease", "/proc/xen/capabilities",
        "/sys/hypervisor/type", "/sys/hypervisor/properties/features",
        "/sys/class/dmi/id/product_name", "/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/board_vendor",
        "/sys/class/dmi/id/bios_vendor", "/sys/class/dmi/id/product_version",
        "/sys/module/kvm_intel/parameters/nested", "/sys/module/kvm_amd/parameters/nested",
    };

    /// <summary>Files whose presence is the evidence (device nodes, binary ACPI tables): copied as empty files.</summary>
    private static readonly string[] PresenceFiles =
    {
        "/dev/kvm", "/dev/net/tun", "/dev/vhost-net", "/sys/firmware/acpi/tables/DMAR", "/sys/firmware/acpi/tables/IVRS",
    };

    /// <summary>Folders whose presence is the evidence: copied empty.</summary>
    private static readonly string[] PresenceFolders =
    {
        "/dev", "/proc/xen", "/sys/bus/usb/drivers/usbip-host", "/sys/bus/platform/drivers/vhci_hcd",
    };

    /// <summary>Folders whose entry names are the evidence: copied as empty folders of the same names.</summary>
    private static readonly string[] NamedFolders = { "/sys/module", "/sys/kernel/iommu_groups", "/sys/class/iommu", "/sys/devices/platform" };

    /// <summary>Folders of attributes copied with their text.</summary>
    private static readonly string[] AttributeFolders = { Ksm, "/sys/devices/platform/vhci_hcd.0" };

    private readonly TemporaryTree? _copy;

    private TestMachine(string name, TemporaryTree? copy)
    {
        Name = name;
        _copy = copy;
    }

    public static TestMachine Open(string name) => name switch
    {
        ThisMachine => new(name, null),
        CopyOfThisMachine => new(name, CopyThisMachine()),
        WithoutKvmIommuOrKsm => new(name, CopyThisMachine(leftOut: new[] { "/dev/kvm", "/sys/kernel/iommu_groups", "/sys/class/iommu", Ksm })),
        WithKvmIommuAndOldKsm => new(name, CopyThisMachine(
            leftOut: KsmAttributesNewerThan61.Select(a => $"{Ksm}/{a}"),
            added: tree => tree.File("/dev/kvm", "", newline: false).Directory("/sys/kernel/iommu_groups/0/devices"))),
        _ => throw new ArgumentException($"No test machine is called '{name}'.", nameof(name)),
    };

    public string Name { get; }

    public bool IsLive => _copy is null;

    public string RootPath => _copy?.Path ?? "/";

    public SystemRoot Root => new(RootPath);

    public string Resolve(string systemPath) => _copy?.Resolve(systemPath) ?? systemPath;

    /// <summary>Whether the file or folder exists (a device node counts as a file).</summary>
    public bool Has(string systemPath) => File.Exists(Resolve(systemPath)) || Directory.Exists(Resolve(systemPath));

    /// <summary>The entry names of a folder, sorted; none when it does not exist.</summary>
    public IReadOnlyList<string> Entries(string systemPath) =>
        Directory.Exists(Resolve(systemPath))
            ? Directory.GetFileSystemEntries(Resolve(systemPath)).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : Array.Empty<string>();

    /// <summary>A file's text without its trailing newline; null when it does not exist.</summary>
    public string? Text(string systemPath) => File.Exists(Resolve(systemPath)) ? File.ReadAllText(Resolve(systemPath)).TrimEnd('\n') : null;

    /// <summary>The value of the first "key : value" line of /proc/cpuinfo with this key; null without cpuinfo or the key.</summary>
    public string? CpuInfoField(string key) =>
        Text("/proc/cpuinfo")?.Split('\n').Select(line => line.Split(':', 2))
            .FirstOrDefault(parts => parts.Length == 2 && parts[0].Trim() == key)?[1].Trim();

    /// <summary>The first processor's cpuinfo flags; null when the machine has no /proc/cpuinfo.</summary>
    public IReadOnlySet<string>? CpuFlags =>
        Text("/proc/cpuinfo") is null ? null : (CpuInfoField("flags") ?? CpuInfoField("features") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();

    /// <summary>Whether this process can open a live device read-write right now: the test's own try, not the probe's.</summary>
    public static bool CanOpenReadWrite(string device)
    {
        try { using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.ReadWrite); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    public override string ToString() => Name;

    public void Dispose() => _copy?.Dispose();

    private static TemporaryTree CopyThisMachine(IEnumerable<string>? leftOut = null, Action<TemporaryTree>? added = null)
    {
        var tree = new TemporaryTree("machine");
        foreach (var folder in PresenceFolders.Where(Directory.Exists)) tree.Directory(folder);
        foreach (var folder in NamedFolders.Where(Directory.Exists))
        {
            tree.Directory(folder);
            foreach (var entry in Directory.GetFileSystemEntries(folder)) tree.Directory($"{folder}/{Path.GetFileName(entry)}");
        }
        foreach (var file in PresenceFiles.Where(File.Exists)) tree.File(file, "", newline: false);
        foreach (var file in ProbedFiles.Concat(AttributeFolders.Where(Directory.Exists).SelectMany(Directory.GetFiles)).Where(File.Exists))
            if (ReadableText(file) is { } text) tree.File(file, text, newline: false);
        foreach (var path in leftOut ?? Enumerable.Empty<string>())
        {
            if (Directory.Exists(tree.Resolve(path))) Directory.Delete(tree.Resolve(path), recursive: true);
            else File.Delete(tree.Resolve(path));
        }
        added?.Invoke(tree);
        return tree;
    }

    /// <summary>Some attributes are write-only (or root-only): they are left out of the copy as the lab's capture does.</summary>
    private static string? ReadableText(string file)
    {
        try { return File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
