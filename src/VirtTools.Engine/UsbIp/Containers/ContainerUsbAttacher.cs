using System.Diagnostics;
using VirtTools.Diagnostics;
using VirtTools.Usb;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// Gives an imported USB device to one container: the vhci attach as <see cref="VhciAttacher"/> does it, a bounded
/// wait for the device and its child nodes to appear, then each node through the container manager (which creates
/// it in the container and allows it in the container's device cgroup). The record names the container and its
/// nodes before any is added, so a crash halfway leaves enough to take them back. Whatever fails after the attach
/// undoes all of it: the nodes added so far are taken back and the port is detached.
/// </summary>
public sealed class ContainerUsbAttacher
{
    /// <summary>How long an attached device may take to appear in sysfs (a slow link, a device that resets twice).</summary>
    public static readonly TimeSpan DefaultEnumerationTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long the device's nodes must stay the same before they are taken as complete: a USB stick's disk appears
    /// after usb-storage's delay_use (1 s) and the SCSI scan, after the USB node itself.
    /// </summary>
    public static readonly TimeSpan DefaultQuietPeriod = TimeSpan.FromSeconds(2.5);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly VhciAttacher _attacher;
    private readonly IContainerDevices _containers;
    private readonly TimeSpan _enumerationTimeout;
    private readonly TimeSpan _quietPeriod;

    public ContainerUsbAttacher(VhciAttacher attacher, IContainerDevices containers, TimeSpan? enumerationTimeout = null, TimeSpan? quietPeriod = null)
    {
        _attacher = attacher;
        _containers = containers;
        _enumerationTimeout = enumerationTimeout ?? DefaultEnumerationTimeout;
        _quietPeriod = quietPeriod ?? DefaultQuietPeriod;
    }

    /// <summary>Imports and attaches the device, gives its nodes to the running container, and returns the port with the container on it.</summary>
    public async Task<UsbIpPort> ConnectAsync(string computerName, int tcpPort, UsbBusId busId, string container, bool dedicatedController,
        TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (ContainerNameText.FindProblem(container) is { } problem) throw ContainerErrors.InvalidName(container, problem);
        // Before the container manager is asked: lxc-info answers a non-root user as if no container ran.
        _attacher.RequireAttachable(busId);
        var owner = _containers.FindRunning(container, cancellation) ?? throw ContainerErrors.NotRunning(container);
        // What this container was given for a device since gone is taken back first: a number it still allows could
        // be the new device's (sd numbers are handed out again), and its rule must not outlive the old one.
        new ContainerGrantKeeper(_attacher, _containers).Keep(container, cancellation);
        var placement = dedicatedController ? VhciPlacement.OwnController(container) : VhciPlacement.Any;
        var grant = new ContainerGrant(container, owner, Array.Empty<DeviceNode>(), dedicatedController);
        var port = await _attacher.ConnectAsync(computerName, tcpPort, busId, timeout, cancellation, placement, grant).ConfigureAwait(false);

        var added = new List<DeviceNode>();
        try
        {
            var nodes = await WaitForNodesAsync(port, busId, container, cancellation).ConfigureAwait(false);
            var record = (_attacher.ReadRecord(port) ?? new VhciPortRecord(computerName, tcpPort, busId)) with { Container = grant with { Nodes = nodes } };
            _attacher.SaveRecord(port, record);
            ContainerGrantLedger.Write(_attacher.Root, port.Port, record);
            foreach (var node in nodes)
            {
                _containers.Add(container, node, cancellation);
                added.Add(node);
            }
            return _attacher.GetAttachedPort(port.Port);
        }
        catch (Exception failure) when (failure is VirtToolsException or IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            var undo = Undo(port, container, owner, added);
            if (undo is not null) throw ContainerErrors.NotUndone(port.ToString(), container, failure, undo);
            if (failure is IOException or UnauthorizedAccessException)
                throw VhciErrors.RecordNotWritten(_attacher.Root.Resolve(VhciPortRecord.WriteDirectory), busId, failure);
            throw;
        }
    }

    /// <summary>
    /// Takes the device's nodes back from its container, then detaches the port. A container that no longer runs
    /// (or runs again as another process) took its nodes and its cgroup with it, so there is nothing to take back.
    /// When taking a node back fails, the port stays attached: detached, its number could go to the next device
    /// plugged into the host, which the container's cgroup would still allow.
    /// </summary>
    public void Disconnect(UsbIpPort port, CancellationToken cancellation = default)
    {
        if (_attacher.ReadRecord(port)?.Container is { } grant && _containers.FindRunning(grant.Name, cancellation) == grant.ProcessId)
            foreach (var node in grant.Nodes.Reverse())
                _containers.Remove(grant.Name, grant.ProcessId, node, cancellation);
        _attacher.Disconnect(port);
        if (port.Container is { } container) ContainerGrantLedger.Delete(_attacher.Root, port.Port, container);
    }

    /// <summary>
    /// Detaches every port whose container no longer runs as the process it was given to (stopped, or restarted:
    /// a new instance starts with a fresh cgroup and none of the nodes). Returns the ports detached.
    /// </summary>
    public IReadOnlyList<UsbIpPort> DetachOrphans(IReadOnlyList<UsbIpPort> ports, CancellationToken cancellation = default)
    {
        var detached = new List<UsbIpPort>();
        var running = new Dictionary<string, int?>(StringComparer.Ordinal); // one question per container, however many ports it holds
        foreach (var port in ports.Where(p => p.IsInUse && p.Container is not null))
        {
            if (!running.TryGetValue(port.Container!, out var owner)) running[port.Container!] = owner = _containers.FindRunning(port.Container!, cancellation);
            if (owner == port.ContainerProcessId) continue;
            _attacher.Disconnect(port);
            ContainerGrantLedger.Delete(_attacher.Root, port.Port, port.Container!);
            detached.Add(port);
        }
        return detached;
    }

    /// <summary>
    /// Waits until the port's device is in sysfs and its nodes have stayed the same for the quiet period, or until
    /// the enumeration timeout; fails when the device never appeared. A storage device whose disk is not there yet
    /// (usb-storage bound, the SCSI scan still running: seconds on a loaded machine) is waited for up to the
    /// enumeration timeout; what appears later still is given by the next sweep (<see cref="ContainerGrantKeeper"/>).
    /// </summary>
    private async Task<IReadOnlyList<DeviceNode>> WaitForNodesAsync(UsbIpPort port, UsbBusId busId, string container, CancellationToken cancellation)
    {
        var waited = Stopwatch.StartNew();
        IReadOnlyList<DeviceNode>? last = null;
        var stableSince = TimeSpan.Zero;
        UsbBusId? localBusId = port.LocalBusId;
        while (true)
        {
            localBusId ??= _attacher.GetAttachedPort(port.Port).LocalBusId;
            var nodes = localBusId is null ? null : UsbDeviceNodes.Find(_attacher.Root, localBusId.Value);
            if (nodes is not null && (last is null || !nodes.SequenceEqual(last))) (last, stableSince) = (nodes, waited.Elapsed);
            // The device's own node comes first: without it the device is not through enumeration yet.
            var complete = last is { Count: > 0 } && waited.Elapsed - stableSince >= _quietPeriod
                && !(last.All(n => !n.IsBlock) && UsbDeviceNodes.AwaitsDisk(_attacher.Root, localBusId!.Value));
            if (complete || waited.Elapsed >= _enumerationTimeout)
                return last is { Count: > 0 } ? last
                    : throw ContainerErrors.DeviceNotEnumerated(busId.ToString(), localBusId?.ToString() ?? "(no bus id yet)", _enumerationTimeout, container);
            await Task.Delay(PollInterval, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Takes back the nodes added and detaches the port; the first failure of that, or null when all was undone.</summary>
    private Exception? Undo(UsbIpPort port, string container, int owner, IReadOnlyList<DeviceNode> added)
    {
        Exception? first = null;
        foreach (var node in added.Reverse())
        {
            try { _containers.Remove(container, owner, node, CancellationToken.None); }
            catch (VirtToolsException e) { first ??= e; }
        }
        try { _attacher.Disconnect(port); }
        catch (VirtToolsException e) { first ??= e; }
        // Kept when a node could not be taken back: the ledger is what the next sweep takes it back from.
        if (first is null)
        {
            try { ContainerGrantLedger.Delete(_attacher.Root, port.Port, container); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or VirtToolsException) { first = e; }
        }
        return first;
    }
}
