using System.Diagnostics;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Carries out a <see cref="PassthroughPlan"/> as libvirt does it: every move's writes, each bind verified by reading
/// the driver link back (drivers_probe "succeeds" when nothing binds), and on any failure every function moved so far
/// put back on its original driver; then the record and modprobe.d files, whose failure puts every function back too.
/// </summary>
public sealed class PassthroughApplier
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly PciDeviceReader _devices;
    private readonly PassthroughStateStore _store;

    public PassthroughApplier(PciDeviceReader devices)
    {
        _devices = devices;
        _store = new PassthroughStateStore(devices.Root);
    }

    public PassthroughApplier(SystemRoot root) : this(new PciDeviceReader(root)) { }

    private SystemRoot Root => _devices.Root;

    /// <summary>How long to wait for the driver link to show the new driver after each probe.</summary>
    public TimeSpan BindTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Does a plan: every move (verifying the driver link), then the record and modprobe.d files. When a move fails,
    /// every function moved so far goes back to its original driver with its original driver_override, and the error
    /// says what failed and how the rollback went; when the files cannot be written, every function goes back the
    /// same way (<see cref="PciErrors.RecordNotWrittenId"/>, naming the record file).
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
            using var kernelLog = KernelLog.OpenAtEnd(Root);
            try
            {
                foreach (var write in move.Writes)
                {
                    step = write.ToString();
                    cancellation.ThrowIfCancellationRequested();
                    SysfsWriter.Write(Root, write.SystemPath, write.Value);
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
                    $"Moving {move.Address} to {move.ToDriver ?? "its host driver"} failed at '{step}': {failure.Message}{KernelLog.Quote(kernelLog, move.Address.ToString())} {rollback}",
                    failure.RecommendedAction ?? "See the kernel log (dmesg) for what the driver said.", move.Address.ToString(), failure);
            }
        }

        try
        {
            _store.Commit(plan.RecordsAfter, plan.RemovedRecords, plan.ModprobeFiles.Keys.Select(ModprobePersistence.StubDriverOf).ToList());
        }
        catch (Exception e)
        {
            // A move no record remembers could not be given back from another shell: the change is all or nothing.
            throw PciErrors.RecordNotWritten(PassthroughStateStore.SystemPath, e,
                plan.Moves.Count == 0 ? "No function had been moved." : RollBack(plan.Moves));
        }
    }

    /// <summary>The driver link alone, polled while a bind settles: the rest of the function does not change.</summary>
    private string? DriverOf(PciAddress address) => _devices.DeviceDirectory(address).LinkName("driver");

    private void WaitForDriver(PassthroughMove move, int index, int count, Action<string, int>? progress, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var driver = DriverOf(move.Address);
            if (driver == move.ToDriver) return;
            if (clock.Elapsed >= BindTimeout)
                throw new VirtToolsException(PciErrors.BindFailedId, FailureKind.DeviceError,
                    $"After the writes, {move.Address} is {(driver is null ? "bound to no driver" : "on " + driver)}, not {move.ToDriver} (waited {BindTimeout.TotalSeconds:0.#} s): the kernel accepted the probe but {move.ToDriver} did not take the device.",
                    $"See dmesg for why {move.ToDriver} rejected it (a bridge, no IOMMU group, a vfio-pci ids= clash).", move.Address.ToString());
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
            var now = _devices.Find(move.Address);
            if (now is null) { outcome.Add($"{move.Address} is gone"); continue; }
            var back = PassthroughMove.ToHost(now, move.FromDriver, move.OriginalOverride, reprobe: false);
            var errors = new List<string>();
            foreach (var write in back.Writes)
            {
                try { SysfsWriter.Write(Root, write.SystemPath, write.Value); }
                catch (VirtToolsException e) { errors.Add($"{write}: {e.Message}"); }
            }
            var after = DriverOf(move.Address);
            outcome.Add(after == move.FromDriver && errors.Count == 0
                ? $"{move.Address} is back on {move.FromDriver ?? "no driver"} with driver_override {(move.OriginalOverride is null ? "cleared" : "restored")}"
                : $"{move.Address} could NOT be put back on {move.FromDriver ?? "no driver"} (now {after ?? "no driver"}; {string.Join("; ", errors)})");
        }
        return "Rolled back: " + string.Join("; ", outcome) + ".";
    }
}
