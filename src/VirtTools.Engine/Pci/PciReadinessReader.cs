using System.Globalization;
using System.Text.RegularExpressions;
using VirtTools.Hypervisor;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Test-PciPassthrough: every check that decides whether a function can go to a VM through vfio, each with the file
/// and value it read. The rules are the ones Set-PciPassthrough and Get-PciIrqShare apply (bridges, the IOMMU, group
/// viability, interlocks, the INTx line), read from the same sources, so the three agree; the rest (ACS, interrupt
/// remapping, reset, reserved regions, framebuffers) are what the kernel refuses or gets wrong later, at VM start.
/// Missing files (older kernels, captures) are Unknown with the path they were looked for at.
/// </summary>
public sealed class PciReadinessReader
{
    private readonly PciDeviceReader _devices;
    private readonly IommuGroupReader _groups;
    private readonly Lazy<IReadOnlyList<PciIrqShare>> _lines;
    private readonly Lazy<PciReadinessFinding> _remapping;
    private readonly Lazy<string?> _resetMethodKernel;
    private readonly Lazy<IReadOnlyList<PciAddress>> _addresses;

    public PciReadinessReader(PciDeviceReader devices)
    {
        _devices = devices;
        _groups = new IommuGroupReader(devices);
        // Host-wide facts, read once for every function tested.
        _lines = new Lazy<IReadOnlyList<PciIrqShare>>(() => PciIrqShareReader.Group(devices.GetDevices(), devices.Root));
        _remapping = new Lazy<PciReadinessFinding>(() => InterruptRemapping.Judge(devices.Root));
        _resetMethodKernel = new Lazy<string?>(ResetMethodKernel);
        _addresses = new Lazy<IReadOnlyList<PciAddress>>(devices.Addresses);
    }

    public PciReadinessReader(SystemRoot root) : this(new PciDeviceReader(root)) { }

    private SystemRoot Root => _devices.Root;

    public PciPassthroughReadiness Test(PciDevice device)
    {
        var findings = new List<PciReadinessFinding> { Bridge(device), Iommu(device) };
        if (Group(device) is { } group) findings.Add(group);
        findings.AddRange(HostUse(device));
        findings.Add(BootVga(device));
        findings.Add(FirmwareFramebuffer.Judge(Root, device));
        findings.Add(AcsIsolation.Judge(Root, device));
        findings.Add(_remapping.Value);
        findings.Add(ReservedRegions.Judge(Root, device));
        findings.Add(Reset(device));
        findings.Add(D3coldPower.Judge(device));
        findings.Add(LargeBars.Judge(Root, device));
        findings.Add(IntxMasking(device));
        findings.Add(IrqSharing(device));
        return new PciPassthroughReadiness
        {
            Address = device.Address,
            Verdict = PciPassthroughReadiness.VerdictOf(findings),
            Findings = findings.ToArray(),
            Root = Root.Path,
        };
    }

    private static PciReadinessFinding Bridge(PciDevice device)
    {
        var evidence = $"{device.SysfsPath}/class: {device.ClassCode}; header type {device.HeaderType?.ToString(CultureInfo.InvariantCulture) ?? "unreadable"}";
        var kind = PciBridgeKind.Of(PciClassCode.Parse(device.ClassCode), device.IsBridge);
        return kind is null
            ? new("Bridge", PciReadinessResult.Pass, evidence, "An endpoint function, not a bridge.")
            : new("Bridge", PciReadinessResult.Fail, evidence, $"It is {kind}: no VM can use it, and Set-PciPassthrough refuses it (PciBridgeNotPassable).");
    }

    private PciReadinessFinding Iommu(PciDevice device)
    {
        var link = $"{device.SysfsPath}/iommu_group";
        if (device.IommuGroup is int group)
            return new("Iommu", PciReadinessResult.Pass, $"{link} -> {IommuGroupReader.GroupsPath}/{group}", "The IOMMU covers the function.");
        var groups = _groups.GroupNumbers().Count;
        return new("Iommu", PciReadinessResult.Fail, $"{link}: missing; {IommuGroupReader.GroupsPath}: {groups} groups",
            groups == 0
                ? "The IOMMU is off: enable VT-d/AMD-Vi and boot with intel_iommu=on or amd_iommu=on (Set-PciPassthrough refuses: IommuNotEnabled)."
                : "The IOMMU does not cover this function (Set-PciPassthrough refuses: IommuNotEnabled).");
    }

    /// <summary>The group rule Get-IommuGroup and Set-PciPassthrough share (VfioGroupViability); null without a group.</summary>
    private PciReadinessFinding? Group(PciDevice device)
    {
        if (_groups.ForDevice(device) is not { } group) return null;
        var members = $"{group.SysfsPath}/devices: {string.Join(", ", group.Devices.Select(d => $"{d.Address} [{d.Driver ?? "no driver"}]"))}";
        if (group.ForeignBlockers.Length > 0)
            return new("IommuGroup", PciReadinessResult.Fail, members,
                $"{string.Join(" ", group.Problems)} Only PCI functions can move with the group (Set-PciPassthrough refuses: IommuGroupNotViable).");
        var others = group.MustMove.Where(a => a != device.Address).ToList();
        var critical = group.Devices.Where(d => others.Contains(d.Address) && PciBridgeKind.Of(PciClassCode.Parse(d.ClassCode), d.IsBridge) is not null).ToList();
        if (critical.Count > 0)
            return new("IommuGroup", PciReadinessResult.Fail, members,
                $"The group holds {string.Join(", ", critical.Select(c => c.Address))}, which the host needs and no VM can have: the group cannot go to vfio whole.");
        return others.Count == 0
            ? new("IommuGroup", PciReadinessResult.Pass, members, "Every other member of the group is unbound, on a stub driver or a bridge: nothing has to move along.")
            : new("IommuGroup", PciReadinessResult.Warn, members,
                $"vfio hands out whole groups: {string.Join(", ", others)} must move along (Set-PciPassthrough -IncludeIommuGroup).");
    }

    /// <summary>The interlocks Set-PciPassthrough refuses without -Force: a mounted filesystem or swap, the default route.</summary>
    private IEnumerable<PciReadinessFinding> HostUse(PciDevice device)
    {
        const string evidence = "/proc/self/mountinfo, /proc/swaps, /proc/net/route, the function's block/ and net/ devices";
        var interlocks = PassthroughInterlocks.Find(_devices, device).Where(i => i.ErrorId != PciErrors.InterlockBootVgaId).ToList();
        if (interlocks.Count == 0)
            yield return new("HostUse", PciReadinessResult.Pass, evidence, "No mounted filesystem, swap area or default route depends on it.");
        foreach (var interlock in interlocks)
            yield return new("HostUse", PciReadinessResult.Fail, evidence,
                $"{interlock.Message} Set-PciPassthrough refuses without -Force ({interlock.ErrorId}).");
    }

    private static PciReadinessFinding BootVga(PciDevice device)
    {
        var path = $"{device.SysfsPath}/boot_vga";
        bool display = device.ClassCode?.StartsWith("0x03", StringComparison.Ordinal) ?? false;
        return device.BootVga switch
        {
            true => new("BootVga", PciReadinessResult.Fail, $"{path}: 1",
                $"The host console runs on it: Set-PciPassthrough refuses without -Force ({PciErrors.InterlockBootVgaId})."),
            false => new("BootVga", PciReadinessResult.Pass, $"{path}: 0", "A display controller, but not the one the host booted on."),
            null when !display => new("BootVga", PciReadinessResult.Pass, $"{device.SysfsPath}/class: {device.ClassCode}", "Not a display controller."),
            null => new("BootVga", PciReadinessResult.Unknown, $"{path}: missing", "A display controller whose boot_vga could not be read."),
        };
    }

    /// <summary>
    /// reset_method (5.15+) in the kernel's order. A kernel that has the attribute hides it when it knows no method, so
    /// its absence there is the answer; on an older kernel (or a capture that does not say), what config space offers
    /// is what the kernel tries: FLR, a PM reset (D3hot and back), or a bus reset when the function is alone behind a bridge.
    /// </summary>
    private PciReadinessFinding Reset(PciDevice device)
    {
        var path = $"{device.SysfsPath}/reset_method";
        switch (device.ResetMethods)
        {
            case []:
                return new("Reset", PciReadinessResult.Warn, $"{path}: empty",
                    "Reset is disabled: the next VM gets the device in whatever state the last one left it.");
            case ["bus"]:
                return new("Reset", PciReadinessResult.Warn, $"{path}: bus",
                    "Only a secondary bus reset: it resets every function on the bus, so vfio can use it only when the VM owns them all.");
            case { } methods:
                return new("Reset", PciReadinessResult.Pass, $"{path}: {string.Join(' ', methods)}", "The kernel can reset the function between VMs.");
        }
        static string Sign(bool? bit) => bit switch { true => "+", false => "-", null => "unreadable" };
        bool busReset = AloneBehindBridge(device);
        var evidence = $"{path}: missing; {device.SysfsPath}/config: FLR {Sign(device.FunctionLevelReset)}, PM reset {Sign(device.PowerManagementReset)}"
                       + (busReset ? "; alone on its bus behind a bridge" : "");
        if (_resetMethodKernel.Value is { } kernel)
            return new("Reset", PciReadinessResult.Warn, $"{evidence}; {kernel}",
                "The kernel knows no way to reset the function (it hides reset_method then): the next VM gets it in whatever state the last one left it.");
        if (device.FunctionLevelReset == true)
            return new("Reset", PciReadinessResult.Pass, evidence, "Function Level Reset: the kernel can reset the function between VMs.");
        if (device.PowerManagementReset == true)
            return new("Reset", PciReadinessResult.Pass, evidence, "A PM reset (D3hot and back to D0): the kernel can reset the function between VMs.");
        if (busReset)
            return new("Reset", PciReadinessResult.Warn, evidence,
                "Only a secondary bus reset of the bridge above: it works while the function is alone on that bus, and takes a moment.");
        if (device.FunctionLevelReset is null || device.PowerManagementReset is null)
            return new("Reset", PciReadinessResult.Unknown, evidence,
                "Config space could not be read whole (run as root), and this kernel has no reset_method to say.");
        return new("Reset", PciReadinessResult.Warn, evidence,
            "Config space offers no FLR and no PM reset, and the function shares its bus or sits on the root bus: unless a device quirk resets it, the next VM gets it in whatever state the last one left it.");
    }

    /// <summary>
    /// Why the kernel's silence about reset methods means "none": its release has reset_method (5.15+), or another
    /// function shows the file. Null when neither tells (an older kernel, or a capture without either).
    /// </summary>
    private string? ResetMethodKernel()
    {
        if (VirtHostProbe.KernelRelease(Root) is { } release
            && Regex.Match(release, @"^(\d+)\.(\d+)") is { Success: true } version
            && (int.Parse(version.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(version.Groups[2].Value, CultureInfo.InvariantCulture))
                .CompareTo((5, 15)) >= 0)
            return $"kernel {release} has reset_method (5.15+)";
        return _devices.GetDevices().FirstOrDefault(d => d.ResetMethods is not null)?.SysfsPath is { } other
            ? $"{other}/reset_method exists" : null;
    }

    /// <summary>A bus reset is possible only for a function behind a bridge with no other function on its bus.</summary>
    private bool AloneBehindBridge(PciDevice device)
    {
        var parent = Path.GetFileName(Path.GetDirectoryName(device.SysfsPath ?? "") ?? "");
        return PciAddress.TryParseKernelName(parent, out _)
               && !_addresses.Value.Any(a => a != device.Address && a.Domain == device.Address.Domain && a.Bus == device.Address.Bus);
    }

    private static PciReadinessFinding IntxMasking(PciDevice device)
    {
        var evidence = $"{device.SysfsPath}/config: {device.IntxMaskingEvidence}";
        if (device.InterruptPin == PciInterruptPin.None)
            return new("IntxMasking", PciReadinessResult.Pass, $"{device.SysfsPath}/config: interrupt pin none", "The function has no INTx pin.");
        return device.SupportsIntxMasking switch
        {
            true => new("IntxMasking", PciReadinessResult.Pass, evidence, "It can mask INTx (PCI 2.3), so vfio-pci may share its line."),
            false => new("IntxMasking", PciReadinessResult.Warn, evidence, "It cannot mask INTx: vfio-pci needs its line to itself whenever the guest uses INTx."),
            null => new("IntxMasking", PciReadinessResult.Unknown, evidence, "Whether it can mask INTx cannot be told without the kernel's write test."),
        };
    }

    /// <summary>Get-PciIrqShare's judgement of the function's line, quoted.</summary>
    private PciReadinessFinding IrqSharing(PciDevice device)
    {
        var line = _lines.Value.FirstOrDefault(l => l.Address.Contains(device.Address));
        if (line is null)
            return new("IrqSharing", PciReadinessResult.Pass, $"{device.SysfsPath}/irq: {device.SysfsIrq?.ToString(CultureInfo.InvariantCulture) ?? "missing"}; pin {device.InterruptPin?.ToString() ?? "unreadable"}; {device.Msi ?? "no MSI"}",
                "The function is on no legacy INTx line.");
        var evidence = $"{line.HandlerSource}: {(line.Handlers.Length == 0 ? "no handler" : string.Join(", ", line.Handlers))}";
        if (line.BlockedAddress.Contains(device.Address))
            return new("IrqSharing", PciReadinessResult.Fail, evidence, line.Reason);
        return new("IrqSharing", line.Shared ? PciReadinessResult.Warn : PciReadinessResult.Pass, evidence, line.Reason);
    }
}
