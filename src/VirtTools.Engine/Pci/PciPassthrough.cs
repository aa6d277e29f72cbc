using System.Diagnostics;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Hands PCI functions to a stub driver (vfio-pci, pci-stub) and back, as libvirt does it: check everything first,
/// then act, verify every bind by reading the driver link back (drivers_probe "succeeds" when nothing binds), and on
/// any failure put every function moved so far back on its original driver.
/// </summary>
public sealed class PciPassthrough
{
    public const string VfioPci = "vfio-pci";
    public const string PciStub = "pci-stub";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly SystemRoot _root;
    private readonly PassthroughStateStore _store;

    public PciPassthrough(SystemRoot root)
    {
        _root = root;
        _store = new PassthroughStateStore(root);
    }

    /// <summary>How long to wait for the driver link to show the new driver after each probe.</summary>
    public TimeSpan BindTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The checks, in order — the function exists, the IOMMU is on, the stub driver is loaded, the IOMMU group is
    /// viable (or its other members move too), no interlock (mounted filesystem, default route, boot VGA) — and
    /// the plan. Reads only. <paramref name="force"/> turns the IOMMU, group and interlock refusals into warnings.
    /// </summary>
    public PassthroughPlan PlanSet(string address, string driver = VfioPci, bool includeIommuGroup = false, bool persist = false, bool force = false)
    {
        PassthroughRecord.RequireDriverName(driver);
        var target = RequireFunction(address);
        if (PciBridgeKind.Of(target.ClassCode, target.IsBridge) is { } bridge) throw PciErrors.BridgeNotPassable(target.Address, bridge);
        var warnings = new List<string>();

        if (target.IommuGroup is null)
        {
            var off = IommuNotEnabled(target);
            if (!force) throw off;
            warnings.Add(off.Message + " Going on because of -Force; the kernel may still refuse the bind.");
        }
        if (!_root.Exists("/sys/bus/pci/drivers/" + driver))
            throw new VirtToolsException(PciErrors.DriverNotLoadedId, FailureKind.NotInstalled,
                $"The {driver} driver is not loaded, so {target.Address} cannot be handed to it.",
                $"Load it with 'modprobe {driver}' (add it to /etc/modules-load.d to load it at boot), then try again.", target.Address);

        var moving = new List<PassthroughFunction>();
        if (target.Driver != driver)
        {
            var blockers = GroupBlockers(target).ToList();
            // The host needs its host and ISA bridges: a group that holds one on its driver cannot go to vfio whole.
            if (includeIommuGroup && blockers.FirstOrDefault(b => PciBridgeKind.Of(b.ClassCode, b.IsBridge) is not null) is { } hostBridge)
                throw PciErrors.BridgeNotPassable(hostBridge.Address, PciBridgeKind.Of(hostBridge.ClassCode, hostBridge.IsBridge)!);
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
            foreach (var interlock in PassthroughInterlocks.Find(_root, function))
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
            Address = f.Address, Driver = driver, OriginalDriver = f.Driver, VendorId = f.VendorId, DeviceId = f.DeviceId,
            Persisted = persist || (existing.GetValueOrDefault(f.Address)?.Persisted ?? false),
        }).ToList();
        if (persist && moves.Count == 0)
        {
            // Already on the stub: persisting still means recording it (keeping what an earlier record knew).
            var known = existing.GetValueOrDefault(target.Address);
            if (known is null || !known.Persisted)
                records.Add((known ?? new PassthroughRecord { Address = target.Address, Driver = driver, VendorId = target.VendorId, DeviceId = target.DeviceId }) with { Persisted = true });
        }
        // Checked before anything moves: a name that fails here would otherwise fail only after the moves, at the record.
        if (records.Select(r => r.Problem()).OfType<string>().FirstOrDefault() is { } problem) throw PciErrors.PassthroughRecordInvalid(target.Address, problem);
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
    public PassthroughPlan PlanRemove(string address, bool persist = false, bool force = false)
    {
        var function = RequireFunction(address);
        var warnings = new List<string>();
        var existing = _store.Load();
        var record = existing.GetValueOrDefault(function.Address);

        var moves = new List<PassthroughMove>();
        bool onStub = function.Driver is VfioPci or PciStub || function.Device.Has("vfio-dev") || function.DriverOverride is not null;
        if (onStub)
        {
            if (function.IommuGroup is int group && function.Driver is not PciStub)
            {
                var holders = VfioGroupHolders.Find(_root, group);
                if (holders.Count > 0)
                {
                    var who = string.Join(", ", holders.Select(h => $"{h.Name} (pid {h.ProcessId})"));
                    var inUse = new VirtToolsException(PciErrors.DeviceInUseId, FailureKind.ResourceBusy,
                        $"/dev/vfio/{group} is held open by {who}: {function.Address} is in use by a guest or a vfio application.",
                        "Shut the VM (or application) down first, or pass -Force to take the device away from it.", function.Address);
                    if (!force) throw inUse;
                    warnings.Add(inUse.Message + " Going on because of -Force.");
                }
            }
            var host = record?.OriginalDriver;
            if (host is not null && !_root.Exists("/sys/bus/pci/drivers/" + host))
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
    /// Does a plan: every move (verifying the driver link), then the record and modprobe.d files. When a move fails,
    /// every function moved so far goes back to its original driver with its original driver_override, and the error
    /// says what failed and how the rollback went.
    /// </summary>
    public void Apply(PassthroughPlan plan, Action<string, int>? progress = null, CancellationToken cancellation = default)
    {
        var started = new List<PassthroughMove>();
        for (int i = 0; i < plan.Moves.Count; i++)
        {
            var move = plan.Moves[i];
            started.Add(move);
            var step = move.Writes[0].ToString();
            // Opened before the writes, so only what the kernel says from here on is read back on failure.
            using var kernelLog = KernelLog.OpenAtEnd(_root);
            try
            {
                foreach (var write in move.Writes)
                {
                    step = write.ToString();
                    cancellation.ThrowIfCancellationRequested();
                    SysfsWriter.Write(_root, write.SystemPath, write.Value);
                }
                step = $"wait for {move.Address} to show driver {move.ToDriver}";
                if (move.ToDriver is not null) WaitForDriver(move, i, plan.Moves.Count, progress, cancellation);
            }
            catch (Exception e)
            {
                // Whatever ends the move — a failed write, Ctrl+C, the caller's progress callback throwing because its
                // pipeline is stopping — the functions go back before the exception leaves.
                var rollback = RollBack(started);
                if (e is OperationCanceledException) throw new OperationCanceledException($"Stopped; {rollback}", e, cancellation);
                if (e is not VirtToolsException failure) throw;
                throw new VirtToolsException(failure.ErrorId == SysfsErrors.PermissionDeniedId ? SysfsErrors.PermissionDeniedId : PciErrors.BindFailedId,
                    failure.ErrorId == SysfsErrors.PermissionDeniedId ? FailureKind.PermissionDenied : FailureKind.DeviceError,
                    $"Moving {move.Address} to {move.ToDriver ?? "its host driver"} failed at '{step}': {failure.Message}{KernelLog.Quote(kernelLog, move.Address)} {rollback}",
                    failure.RecommendedAction ?? "See the kernel log (dmesg) for what the driver said.", move.Address, failure);
            }
        }

        _store.Commit(plan.RecordsAfter, plan.RemovedRecords, plan.ModprobeFiles.Keys.Select(ModprobePersistence.StubDriverOf).ToList());
    }

    /// <summary>The function's state as sysfs shows it now; null when it is gone.</summary>
    internal PassthroughFunction? Function(string address) => PassthroughFunction.Read(_root, address);

    private void WaitForDriver(PassthroughMove move, int index, int count, Action<string, int>? progress, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var driver = Function(move.Address)?.Driver;
            if (driver == move.ToDriver) return;
            if (clock.Elapsed >= BindTimeout)
                throw new VirtToolsException(PciErrors.BindFailedId, FailureKind.DeviceError,
                    $"After the writes, {move.Address} is {(driver is null ? "bound to no driver" : "on " + driver)}, not {move.ToDriver} (waited {BindTimeout.TotalSeconds:0.#} s): the kernel accepted the probe but {move.ToDriver} did not take the device.",
                    $"See dmesg for why {move.ToDriver} rejected it (a bridge, no IOMMU group, a vfio-pci ids= clash).", move.Address);
            int percent = (int)(100 * (index + Math.Min(1.0, clock.Elapsed / BindTimeout)) / count);
            progress?.Invoke($"Waiting for {move.Address} to bind to {move.ToDriver}", percent);
            cancellation.WaitHandle.WaitOne(PollInterval);
            cancellation.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Puts every started move back, newest first; says how it went, function by function.</summary>
    private string RollBack(IReadOnlyList<PassthroughMove> started)
    {
        var outcome = new List<string>();
        foreach (var move in started.Reverse())
        {
            var now = Function(move.Address);
            if (now is null) { outcome.Add($"{move.Address} is gone"); continue; }
            var back = PassthroughMove.ToHost(now, move.FromDriver, move.OriginalOverride, reprobe: false);
            var errors = new List<string>();
            foreach (var write in back.Writes)
            {
                try { SysfsWriter.Write(_root, write.SystemPath, write.Value); }
                catch (VirtToolsException e) { errors.Add($"{write}: {e.Message}"); }
            }
            var after = Function(move.Address);
            outcome.Add(after?.Driver == move.FromDriver && errors.Count == 0
                ? $"{move.Address} is back on {move.FromDriver ?? "no driver"} with driver_override {(move.OriginalOverride is null ? "cleared" : "restored")}"
                : $"{move.Address} could NOT be put back on {move.FromDriver ?? "no driver"} (now {after?.Driver ?? "no driver"}; {string.Join("; ", errors)})");
        }
        return "Rolled back: " + string.Join("; ", outcome) + ".";
    }

    private PassthroughFunction RequireFunction(string address)
    {
        var normalized = PciAddress.Normalize(address) ?? throw PciErrors.AddressInvalid(address);
        return Function(normalized) ?? throw PciErrors.DeviceNotFound(address);
    }

    /// <summary>
    /// A shared INTx line a moving function cannot avoid (no MSI, no INTx masking) makes a VM with it flaky, or
    /// vfio refuses the interrupt: worth knowing before, not a reason to refuse.
    /// </summary>
    private IEnumerable<string> SharedIntxWarnings(IReadOnlyCollection<PassthroughFunction> moving)
    {
        if (moving.Count == 0) return Array.Empty<string>();
        var addresses = moving.Select(m => m.Address).ToHashSet(StringComparer.Ordinal);
        return new PciIrqShareReader(_root).GetLines()
            .Where(line => line.BlockedAddress.Any(addresses.Contains))
            .Select(line => line.Reason);
    }

    /// <summary>
    /// Group members that keep the group from being viable (the rule in VfioGroupViability, as Get-IommuGroup judges
    /// it). A member that is no PCI function cannot be moved with the group, so one on a host driver is a refusal.
    /// </summary>
    internal IEnumerable<PassthroughFunction> GroupBlockers(PassthroughFunction target)
    {
        if (target.IommuGroup is not int group) yield break;
        var devices = _root.Directory($"/sys/kernel/iommu_groups/{group}/devices");
        foreach (var member in devices.EntryNames())
        {
            if (member == target.Address) continue;
            if (Function(member) is not { } function)
            {
                var driver = devices.Child(member).LinkName("driver");
                if (!VfioGroupViability.AllowsGroup(driver)) throw ForeignMemberBlocks(target, member, driver!);
                continue;
            }
            if (!VfioGroupViability.AllowsGroup(function.Driver, VfioGroupViability.IsVfioBound(function.Device, function.Driver), function.IsBridge))
                yield return function;
        }
    }

    private static VirtToolsException ForeignMemberBlocks(PassthroughFunction target, string member, string driver) =>
        new(PciErrors.IommuGroupNotViableId, FailureKind.ResourceUnavailable,
            $"IOMMU group {target.IommuGroup} of {target.Address} is not viable: {member} (not a PCI function) is bound to {driver}, and only PCI functions can be moved with the group.",
            $"Unbind {member} from {driver} (echo {member} > /sys/bus/*/drivers/{driver}/unbind), or move the card to a slot with its own group.",
            target.Address);

    private static VirtToolsException GroupNotViable(PassthroughFunction target, IReadOnlyList<PassthroughFunction> blockers, string driver) =>
        new(PciErrors.IommuGroupNotViableId, FailureKind.ResourceUnavailable,
            $"IOMMU group {target.IommuGroup} of {target.Address} is not viable: {string.Join(", ", blockers.Select(b => $"{b.Address} is on {b.Driver}"))}. vfio hands out whole groups only.",
            $"Add -IncludeIommuGroup to hand {string.Join(", ", blockers.Select(b => b.Address))} to {driver} too, or move the card to a slot with its own group.",
            target.Address);

    private VirtToolsException IommuNotEnabled(PassthroughFunction target)
    {
        var cpuInfo = _root.ReadText("/proc/cpuinfo") ?? "";
        var option = cpuInfo.Contains("AuthenticAMD", StringComparison.Ordinal) ? "amd_iommu=on"
            : cpuInfo.Contains("GenuineIntel", StringComparison.Ordinal) ? "intel_iommu=on" : "intel_iommu=on (Intel) or amd_iommu=on (AMD)";
        var cmdline = _root.ReadText("/proc/cmdline")?.Trim();
        return new VirtToolsException(PciErrors.IommuNotEnabledId, FailureKind.NotEnabled,
            $"{target.Address} has no IOMMU group: the IOMMU is off{(cmdline is null ? "" : $" (kernel command line: {cmdline})")}.",
            $"Enable VT-d/AMD-Vi in the firmware and add {option} iommu=pt to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub), then reboot.",
            target.Address);
    }
}
