using VirtTools.Diagnostics;
using VirtTools.Usb;
using VirtTools.UsbIp.Containers;

namespace VirtTools.Tests.Engine.UsbIp.Containers;

/// <summary>
/// Stands in for LXC: containers that run with an init process, a log of every call in order ("add desk1 /dev/sda"),
/// the nodes each container holds now, and a failure to inject on one node.
/// </summary>
internal sealed class ContainerDevicesDouble : IContainerDevices
{
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DeviceNode>> _held = new(StringComparer.Ordinal);

    public List<string> Calls { get; } = new();

    /// <summary>The next add or del of this path fails as lxc-device would report it.</summary>
    public string? FailOn { get; set; }

    public ContainerDevicesDouble Run(string container, int processId)
    {
        _running[container] = processId;
        _held.TryAdd(container, new List<DeviceNode>());
        return this;
    }

    /// <summary>Stops the container: its nodes and cgroup go with it.</summary>
    public void Stop(string container)
    {
        _running.Remove(container);
        _held.Remove(container);
    }

    public IReadOnlyList<string> Held(string container) =>
        _held.TryGetValue(container, out var nodes) ? nodes.Select(n => n.Path).ToList() : Array.Empty<string>();

    public int? FindRunning(string container, CancellationToken cancellation)
    {
        Calls.Add("info " + container);
        return _running.TryGetValue(container, out var pid) ? pid : null;
    }

    public void Add(string container, DeviceNode node, CancellationToken cancellation)
    {
        Calls.Add($"add {container} {node.Path}");
        FailIfAsked(container, node);
        _held[container].Add(node);
    }

    public void Remove(string container, int processId, DeviceNode node, CancellationToken cancellation)
    {
        Calls.Add($"del {container} {node.Path}");
        if (_running.GetValueOrDefault(container) != processId) throw new InvalidOperationException($"{container} was asked back a node as process {processId}, not its init.");
        FailIfAsked(container, node);
        _held[container].Remove(node);
    }

    private void FailIfAsked(string container, DeviceNode node)
    {
        if (FailOn != node.Path) return;
        FailOn = null;
        throw ContainerErrors.ManagerFailed($"lxc-device -n {container} ... {node.Path}", "it exited with 1: injected", container);
    }
}
