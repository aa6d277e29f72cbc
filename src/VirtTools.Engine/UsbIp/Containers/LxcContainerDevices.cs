using System.Globalization;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// LXC's device interface through its tools (LXC 5.0): <c>lxc-info -n NAME -s -p</c> for the state and init
/// process, <c>lxc-device -n NAME add PATH</c> to give a node: it stats the path on the host, creates the node inside
/// the container (through /proc/&lt;init&gt;/root) and sends the allow rule to the container's monitor, which on a
/// pure cgroup2 host swaps the container's BPF device program.
/// A node is taken back without <c>lxc-device del</c>, which stats the host's node first (the path it unlinks in the
/// container is the one it stats on the host) and so fails once the device is gone, the very case that must not
/// leave a rule behind. Instead the two halves of what it does: <c>lxc-cgroup -n NAME devices.deny "c M:m rwm"</c>
/// (the same set_cgroup_item call lxc-device makes, sent to the monitor on cgroup2), then the node unlinked inside
/// the container (<see cref="ContainerNodeFile"/>). Recreating a host node to satisfy lxc-device's stat was not
/// chosen: it would race devtmpfs and udev for a path a new device may take.
/// </summary>
public sealed class LxcContainerDevices : IContainerDevices
{
    public const string InfoTool = "lxc-info";
    public const string DeviceTool = "lxc-device";
    public const string CgroupTool = "lxc-cgroup";

    /// <summary>How long one tool may run: they take milliseconds, but a monitor that does not answer must not hang the caller.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly string? _toolDirectory;
    private readonly TimeSpan _timeout;
    private readonly Func<int, string> _containerRoot;

    /// <param name="toolDirectory">Where the tools are; null searches PATH, as a shell would.</param>
    /// <param name="containerRoot">Where a container's root is seen from the host, by its init; null: /proc/&lt;init&gt;/root.</param>
    public LxcContainerDevices(string? toolDirectory = null, TimeSpan? timeout = null, Func<int, string>? containerRoot = null)
    {
        _toolDirectory = toolDirectory;
        _timeout = timeout ?? DefaultTimeout;
        _containerRoot = containerRoot ?? ContainerNodeFile.RootOf;
    }

    public int? FindRunning(string container, CancellationToken cancellation)
    {
        // lxc-info fails for a container that does not exist: as far as a device goes, that is one that does not run.
        var run = Run(InfoTool, new[] { "-n", container, "-s", "-p" }, container, cancellation);
        if (run.ExitCode != 0) return null;
        // "State:          RUNNING" and "PID:            173"; a stopped container has no PID line.
        var fields = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2, StringSplitOptions.TrimEntries)).Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
        return fields.GetValueOrDefault("State") == "RUNNING" && fields.TryGetValue("PID", out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
    }

    public void Add(string container, DeviceNode node, CancellationToken cancellation) =>
        RunOrFail(DeviceTool, new[] { "-n", container, "add", node.Path }, container, cancellation);

    public void Remove(string container, int processId, DeviceNode node, CancellationToken cancellation)
    {
        // Denied first, as lxc-device del does: a node left behind by a failure below opens nothing.
        RunOrFail(CgroupTool, new[] { "-n", container, "devices.deny", node.Rule + " rwm" }, container, cancellation);
        var root = _containerRoot(processId);
        try
        {
            ContainerNodeFile.Remove(root, node);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ContainerErrors.NodeNotRemoved(node.Path, root, container, e);
        }
    }

    private void RunOrFail(string tool, string[] arguments, string container, CancellationToken cancellation)
    {
        var run = Run(tool, arguments, container, cancellation);
        if (run.ExitCode != 0) throw ContainerErrors.ManagerFailed(ToolRun.Describe(tool, arguments), Why(run), container);
    }

    private ToolRun Run(string tool, string[] arguments, string container, CancellationToken cancellation)
    {
        var executable = _toolDirectory is null ? tool : Path.Combine(_toolDirectory, tool);
        return ToolRun.Start(executable, arguments, _timeout, cancellation) ?? throw ContainerErrors.ManagerMissing(tool, container);
    }

    private string Why(ToolRun run) => run.TimedOut
        ? $"it did not finish within {_timeout.TotalSeconds:0.#} seconds and was stopped."
        : string.Create(CultureInfo.InvariantCulture, $"it exited with {run.ExitCode}: {run.Complaint()}");
}
