using VirtTools.Usb;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// Which container a vhci port's device was given to: its name, the process that ran it then (the container's
/// init, as the container manager reports it: the port's owner), the nodes it was given, and whether the port was
/// placed on a controller of the container's own (-DedicatedController, profile dedicatedController).
/// </summary>
public sealed record ContainerGrant(string Name, int ProcessId, IReadOnlyList<DeviceNode> Nodes, bool DedicatedController = false)
{
    /// <summary>More nodes than one USB device brings (a hub is never imported): a record with more is not one of ours.</summary>
    public const int MaxNodes = UsbDeviceNodes.MaxNodes;

    public bool Equals(ContainerGrant? other) =>
        other is not null && other.Name == Name && other.ProcessId == ProcessId && other.Nodes.SequenceEqual(Nodes)
        && other.DedicatedController == DedicatedController;

    public override int GetHashCode() => HashCode.Combine(Name, ProcessId, Nodes.Count);
}
