using VirtTools.Usb;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.UsbIp.Containers;

/// <summary>What a sweep of the ledger changed for one port given to a container.</summary>
/// <param name="Added">Nodes that appeared after the attach (a disk behind a slow SCSI scan) and were given.</param>
/// <param name="TakenBack">Nodes taken back: the device's, when it went away on its own, or a child that went away.</param>
/// <param name="ContainerGone">The container stopped or started again: its nodes and cgroup went with it, the entry is dropped.</param>
public sealed record ContainerGrantChange(int Port, string Container, UsbBusId BusId, IReadOnlyList<DeviceNode> Added,
    IReadOnlyList<DeviceNode> TakenBack, bool ContainerGone)
{
    /// <summary>Whether the port's device is gone and everything it had given was taken back.</summary>
    public bool DeviceGone { get; init; }
}

/// <summary>
/// Keeps what containers were given true to the devices as they are now, from the ledger
/// (<see cref="ContainerGrantLedger"/>), one sweep at a time: the agent sweeps on every pass, and an attach into a
/// container sweeps that container first. A port whose device went away on its own (its server stopped, the stick
/// unplugged there, the link ended) is free or holds another attachment: its nodes are taken back from the container
/// (denied, then unlinked: nothing on the host is needed) and the entry dropped. A port that still holds the device
/// gets the nodes that appeared since (a disk enumerated after the attach's quiet period) and loses the ones that
/// went (a disk deleted): a number the container keeps after its device went could be the next device's.
/// </summary>
public sealed class ContainerGrantKeeper
{
    private readonly VhciAttacher _attacher;
    private readonly IContainerDevices _containers;

    public ContainerGrantKeeper(VhciAttacher attacher, IContainerDevices containers)
    {
        _attacher = attacher;
        _containers = containers;
    }

    /// <summary>
    /// Sweeps the entries of one container (or of all, <paramref name="container"/> null) and returns what changed.
    /// The first failure (of the container manager, or of a record write: a VirtToolsException, IOException or
    /// UnauthorizedAccessException) is thrown after the other entries were swept; a failed entry stays for the next sweep.
    /// </summary>
    public IReadOnlyList<ContainerGrantChange> Keep(string? container = null, CancellationToken cancellation = default)
    {
        var entries = ContainerGrantLedger.Read(_attacher.Root, container);
        if (entries.Count == 0) return Array.Empty<ContainerGrantChange>();
        var ports = new VhciReader(_attacher.Root).GetPorts().ToDictionary(p => p.Port);
        var running = new Dictionary<string, int?>(StringComparer.Ordinal); // one question per container
        var changes = new List<ContainerGrantChange>();
        Exception? first = null;
        foreach (var entry in entries)
        {
            var grant = entry.Grant;
            if (!running.TryGetValue(grant.Name, out var owner)) running[grant.Name] = owner = _containers.FindRunning(grant.Name, cancellation);
            try
            {
                if (Sweep(entry, owner, ports.GetValueOrDefault(entry.Port), cancellation) is { } change) changes.Add(change);
            }
            catch (Exception failure) when (failure is Diagnostics.VirtToolsException or IOException or UnauthorizedAccessException)
            {
                first ??= failure;
            }
        }
        if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        return changes;
    }

    private ContainerGrantChange? Sweep(ContainerGrantEntry entry, int? owner, UsbIpPort? port, CancellationToken cancellation)
    {
        var (grant, record) = (entry.Grant, entry.Record);
        var none = Array.Empty<DeviceNode>();
        if (owner != grant.ProcessId)
        {
            ContainerGrantLedger.Delete(_attacher.Root, entry.Port, grant.Name);
            return new ContainerGrantChange(entry.Port, grant.Name, record.BusId, none, none, ContainerGone: true);
        }
        if (port is null || !Holds(port, record))
        {
            foreach (var node in grant.Nodes.Reverse()) _containers.Remove(grant.Name, grant.ProcessId, node, cancellation);
            ContainerGrantLedger.Delete(_attacher.Root, entry.Port, grant.Name);
            return new ContainerGrantChange(entry.Port, grant.Name, record.BusId, none, grant.Nodes, ContainerGone: false) { DeviceGone = true };
        }
        // The device's own node first, as the attach found it; anything else is a device in the middle of going.
        var now = port.LocalBusId is { } localBusId ? UsbDeviceNodes.Find(_attacher.Root, localBusId) : null;
        if (now is not { Count: > 0 } || grant.Nodes.Count == 0 || now[0] != grant.Nodes[0]) return null;
        var added = now.Except(grant.Nodes).ToList();
        var gone = grant.Nodes.Except(now).ToList();
        if (added.Count == 0 && gone.Count == 0) return null;

        // Recorded before given, as at attach: whatever fails halfway, the records name a superset of what was given.
        Save(entry.Port, port, record with { Container = grant with { Nodes = grant.Nodes.Concat(added).ToList() } });
        foreach (var node in added) _containers.Add(grant.Name, node, cancellation);
        foreach (var node in gone) _containers.Remove(grant.Name, grant.ProcessId, node, cancellation);
        Save(entry.Port, port, record with { Container = grant with { Nodes = grant.Nodes.Except(gone).Concat(added).ToList() } });
        return new ContainerGrantChange(entry.Port, grant.Name, record.BusId, added, gone, ContainerGone: false);
    }

    /// <summary>Whether the port still holds the attachment the entry was written for (usbip's own record names the same device and container).</summary>
    private static bool Holds(UsbIpPort port, VhciPortRecord record) =>
        port.IsInUse && port.RemoteHost == record.Host && port.RemoteBusId == record.BusId
        && port.Container == record.Container!.Name && port.ContainerProcessId == record.Container.ProcessId;

    private void Save(int portNumber, UsbIpPort port, VhciPortRecord record)
    {
        _attacher.SaveRecord(port, record);
        ContainerGrantLedger.Write(_attacher.Root, portNumber, record);
    }
}
