using VirtTools.Usb;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// The container manager's own interface for device nodes (LXC's <c>lxc-device add</c> and <c>lxc-cgroup</c>): it
/// creates the node inside the running container and changes the container's device cgroup to allow or deny its number.
/// <see cref="LxcContainerDevices"/> is the real one; tests use a double.
/// </summary>
public interface IContainerDevices
{
    /// <summary>The running container's init process; null when no container of that name runs.</summary>
    int? FindRunning(string container, CancellationToken cancellation);

    /// <summary>Creates the node in the container and allows its number. The node must exist on the host.</summary>
    void Add(string container, DeviceNode node, CancellationToken cancellation);

    /// <summary>
    /// Denies the node's number again and removes the node from the container whose init is <paramref name="processId"/>.
    /// Needs nothing on the host: the device may be gone already (unplugged on the server, its link ended).
    /// </summary>
    void Remove(string container, int processId, DeviceNode node, CancellationToken cancellation);
}

