using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Containers;

/// <summary>The container manager that goes with a root: LXC on the running system; none under another -Root.</summary>
public static class ContainerManager
{
    public static IContainerDevices For(SystemRoot root) => root.IsLive ? new LxcContainerDevices() : new NotUnderRoot(root);

    /// <summary>
    /// A tree under -Root (a fixture, a sandbox) has no containers of its own, and the machine's must not be changed
    /// on its behalf: every question is refused with ContainerLiveSystemOnly.
    /// </summary>
    private sealed class NotUnderRoot(SystemRoot root) : IContainerDevices
    {
        public int? FindRunning(string container, CancellationToken cancellation) => throw ContainerErrors.LiveSystemOnly(root.Path, container);

        public void Add(string container, DeviceNode node, CancellationToken cancellation) => throw ContainerErrors.LiveSystemOnly(root.Path, container);

        public void Remove(string container, int processId, DeviceNode node, CancellationToken cancellation) => throw ContainerErrors.LiveSystemOnly(root.Path, container);
    }
}
