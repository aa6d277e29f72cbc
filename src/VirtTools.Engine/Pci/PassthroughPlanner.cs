using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Decides what Set- and Remove-PciPassthrough will do: every check (the function, the IOMMU, the stub driver, group
/// viability as Get-IommuGroup judges it, the interlocks), then a <see cref="PassthroughPlan"/>. Reads only, from the
/// one PCI model (<see cref="PciDeviceReader"/>); <see cref="PassthroughApplier"/> carries a plan out.
/// </summary>
public sealed class PassthroughPlanner
{
    private readonly PciDeviceReader _devices;
    private readonly IommuGroupReader _groups;
    private readonly PassthroughStateStore _store;

    public PassthroughPlanner(PciDeviceReader devices)
    {
        _devices = devices;
        _groups = new IommuGroupReader(devices);
        _store = new PassthroughStateStore(devices.Root);
    }

    public PassthroughPlanner(SystemRoot root) : this(new PciDeviceReader(root)) { }

    private SystemRoot Root => _devices.Root;

    /// <summary>
    /// The checks, in order — the function exists and is no bridge, the IOMMU is on, the stub driver is loaded, the
    /// IOMMU group is viable (or its other members move too), no interlock (mounted filesystem, default route, boot
    /// VGA) — and the plan. <paramref name="force"/> turns the IOMMU, group and interlock refusals into warnings.
    /// </summary>
    public PassthroughPlan PlanSet(PciAddress address, string driver = PciStubDriver.VfioPci, bool includeIommuGroup = false, bool persist = false, bool force = false)
    {
        PassthroughRecord.RequireDriverName(driver);
        var target = _devices.Get(address);
        if (BridgeKind(target) is { } bridge) throw PciErrors.BridgeNotPassable(target.Address.ToString(), bridge);
        var warnings = new List<string>();

        if (target.IommuGroup is null)
        {
            var off = IommuNotEnabled(target);
            if (!force) throw off;
            warnings.Add(off.Message + " Going on because of -Force; the kernel may still refuse the bind.");
        }
        if (!Root.Exists($"{PciDeviceReader.DriversPath}/{driver}"))
            throw new VirtToolsException(PciErrors.DriverNotLoadedId, FailureKind.NotInstalled,
                $"The {driver} driver is not loaded, so {target.Address} cannot be handed to it.",
                $"Load it with 'modprobe {driver}' (add it to /etc/modules-load.d to load it at boot), then try again.", target.Address.ToString());

        var moving = new List<PciDevice>();
        if (target.Driver != driver)
        {
            var blockers = GroupBlockers(target);
            // The host needs its host and ISA bridges: a group that holds one on its driver cannot go to vfio whole.
            if (includeIommuGroup && blockers.FirstOrDefault(b => BridgeKind(b) is not null) is { } hostBridge)
                throw PciErrors.BridgeNotPassable(hostBridge.Address.ToString(), BridgeKind(hostBridge)!);
            if (blockers.Count > 0 && includeIommuGroup) moving.AddRange(blockers);
            else if (blockers.Count > 0)
            {
                var notViable = GroupNotViable(target, blockers, driver);
                if (!force) throw notViable;
                warnings.Add(notViable.Message + " Going on because of -Force; vfio will not let a VM open the group until it is viable.");
            }
            moving.Add(target);
        }

        foreach (var function in moving)
            foreach (var interlock in PassthroughInterlocks.Find(_devices, function))
            {
                if (!force) throw interlock;
                warnings.Add(interlock.Message + " Going on because of -Force.");
            }

        warnings.AddRange(SharedIntxWarnings(moving));

        var moves = moving.Select(f => PassthroughMove.ToStub(f, driver)).ToList();
        // Bound but not pinned (vfio-pci ids=, a manual bind): without driver_override a reprobe would hand it back.
        if (target.Driver == driver && target.DriverOverride != driver) moves.Add(PassthroughMove.Pin(target, driver));
        var existing = _store.Load();
        var records = moving.Select(f => new PassthroughRecord
        {
            Address = f.Address.ToString(), Driver = driver, OriginalDriver = f.Driver, VendorId = f.VendorId, DeviceId = f.DeviceId,
            Persisted = persist || (existing.GetValueOrDefault(f.Address.ToString())?.Persisted ?? false),
        }).ToList();
        if (persist && moves.Count == 0)
        {
            // Already on the stub: persisting still means recording it (keeping what an earlier record knew).
            var known = existing.GetValueOrDefault(target.Address.ToString());
            if (known is null || !known.Persisted)
                records.Add((known ?? new PassthroughRecord { Address = target.Address.ToString(), Driver = driver, VendorId = target.VendorId, DeviceId = target.DeviceId }) with { Persisted = true });
        }
        // Checked before anything moves: a name that fails here would otherwise fail only after the moves, at the record.
        if (records.Select(r => r.Problem()).OfType<string>().FirstOrDefault() is { } problem) throw PciErrors.PassthroughRecordInvalid(target.Address.ToString(), problem);
        var modprobe = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (persist)
        {
            var after = existing.Values.Where(r => records.All(n => n.Address != r.Address)).Concat(records);
            modprobe[ModprobePersistence.FilePath(driver)] = ModprobePersistence.Lines(driver, after);
            warnings.Add($"-Persist takes effect when {driver} loads: if the host driver loads from the initramfs, rebuild it (update-initramfs -u, or dracut -f).");
        }
        return new PassthroughPlan(target.Address, moves, records, Array.Empty<string>(), modprobe, warnings);
    }

    /// <summary>
    /// The checks and plan to give a function back: it exists, no process holds its vfio group open (unless
    /// <paramref name="force"/>), the host driver is the one remembered (or reprobing finds one).
    /// </summary>
    public PassthroughPlan PlanRemove(PciAddress address, bool persist = false, bool force = false)
    {
        var function = _devices.Get(address);
        var warnings = new List<string>();
        var existing = _store.Load();
        var record = existing.GetValueOrDefault(function.Address.ToString());

        var moves = new List<PassthroughMove>();
        bool onStub = function.Driver == PciStubDriver.PciStub || function.IsVfioBound || function.DriverOverride is not null;
        if (onStub)
        {
            if (function.IommuGroup is int group && function.Driver != PciStubDriver.PciStub)
            {
                var holders = VfioGroupHolders.Find(Root, group);
                if (holders.Count > 0)
                {
                    var who = string.Join(", ", holders.Select(h => $"{h.Name} (pid {h.ProcessId})"));
                    var inUse = new VirtToolsException(PciErrors.DeviceInUseId, FailureKind.ResourceBusy,
                        $"/dev/vfio/{group} is held open by {who}: {function.Address} is in use by a guest or a vfio application.",
                        "Shut the VM (or application) down first, or pass -Force to take the device away from it.", function.Address.ToString());
                    if (!force) throw inUse;
                    warnings.Add(inUse.Message + " Going on because of -Force.");
                }
            }
            var host = record?.OriginalDriver;
            if (host is not null && !Root.Exists($"{PciDeviceReader.DriversPath}/{host}"))
            {
                warnings.Add($"{function.Address} came from {host}, which is not loaded now; reprobing instead (modprobe {host} to get it back).");
                host = null;
            }
            moves.Add(PassthroughMove.ToHost(function, host));
        }

        var removed = new List<string>();
        var modprobe = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (record is not null && (persist || !record.Persisted)) removed.Add(record.Address);
        if (persist && record is { Persisted: true })
            modprobe[ModprobePersistence.FilePath(record.Driver)] = ModprobePersistence.Lines(record.Driver, existing.Values.Where(r => r.Address != record.Address));
        else if (record is { Persisted: true })
            warnings.Add($"{function.Address} stays persisted in {ModprobePersistence.FilePath(record.Driver)}: {record.Driver} takes it again at the next boot. Add -Persist to remove that too.");
        return new PassthroughPlan(function.Address, moves, Array.Empty<PassthroughRecord>(), removed, modprobe, warnings);
    }

    /// <summary>
    /// Group members other than <paramref name="target"/> that keep its group from being viable, as Get-IommuGroup
    /// judges it (VfioGroupViability). A member that is no PCI function cannot be moved with the group, so one on a
    /// host driver is a refusal.
    /// </summary>
    public IReadOnlyList<PciDevice> GroupBlockers(PciDevice target)
    {
        if (_groups.ForDevice(target) is not { } group) return Array.Empty<PciDevice>();
        if (group.ForeignBlockers.FirstOrDefault() is { } member)
            throw ForeignMemberBlocks(target, member, Root.Directory($"{group.SysfsPath}/devices/{member}").LinkName("driver"));
        return group.Devices.Where(d => d.Address != target.Address && group.MustMove.Contains(d.Address)).ToList();
    }

    private static string? BridgeKind(PciDevice function) => PciBridgeKind.Of(PciClassCode.Parse(function.ClassCode), function.IsBridge);

    /// <summary>
    /// A shared INTx line a moving function cannot avoid (no MSI, no INTx masking) makes a VM with it flaky, or
    /// vfio refuses the interrupt: worth knowing before, not a reason to refuse.
    /// </summary>
    private IEnumerable<string> SharedIntxWarnings(IReadOnlyCollection<PciDevice> moving)
    {
        if (moving.Count == 0) return Array.Empty<string>();
        var addresses = moving.Select(m => m.Address).ToHashSet();
        return new PciIrqShareReader(_devices).GetLines()
            .Where(line => line.BlockedAddress.Any(addresses.Contains))
            .Select(line => line.Reason);
    }

    private static VirtToolsException ForeignMemberBlocks(PciDevice target, string member, string? driver) =>
        new(PciErrors.IommuGroupNotViableId, FailureKind.ResourceUnavailable,
            $"IOMMU group {target.IommuGroup} of {target.Address} is not viable: {member} (not a PCI function) is bound to {driver}, and only PCI functions can be moved with the group.",
            $"Unbind {member} from {driver} (echo {member} > /sys/bus/*/drivers/{driver}/unbind), or move the card to a slot with its own group.",
            target.Address.ToString());

    private static VirtToolsException GroupNotViable(PciDevice target, IReadOnlyList<PciDevice> blockers, string driver) =>
        new(PciErrors.IommuGroupNotViableId, FailureKind.ResourceUnavailable,
            $"IOMMU group {target.IommuGroup} of {target.Address} is not viable: {string.Join(", ", blockers.Select(b => $"{b.Address} is on {b.Driver}"))}. vfio hands out whole groups only.",
            $"Add -IncludeIommuGroup to hand {string.Join(", ", blockers.Select(b => b.Address))} to {driver} too, or move the card to a slot with its own group.",
            target.Address.ToString());

    private VirtToolsException IommuNotEnabled(PciDevice target)
    {
        var cpuInfo = Root.ReadText("/proc/cpuinfo") ?? "";
        var option = cpuInfo.Contains("AuthenticAMD", StringComparison.Ordinal) ? "amd_iommu=on"
            : cpuInfo.Contains("GenuineIntel", StringComparison.Ordinal) ? "intel_iommu=on" : "intel_iommu=on (Intel) or amd_iommu=on (AMD)";
        var cmdline = Root.ReadText("/proc/cmdline")?.Trim();
        return new VirtToolsException(PciErrors.IommuNotEnabledId, FailureKind.NotEnabled,
            $"{target.Address} has no IOMMU group: the IOMMU is off{(cmdline is null ? "" : $" (kernel command line: {cmdline})")}.",
            $"Enable VT-d/AMD-Vi in the firmware and add {option} iommu=pt to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub), then reboot.",
            target.Address.ToString());
    }
}
