using System.Globalization;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// LXC's device interface through its tools (LXC 5.0): <c>lxc-info -n NAME -s -p</c> for the state and init
/// process, <c>lxc-device -n NAME add|del PATH</c> for a node. lxc-device stats the path on the host, creates or
/// removes it inside the container (through /proc/&lt;init&gt;/root), and sends the allow or deny rule to the
/// container's monitor, which on a pure cgroup2 host swaps the container's BPF device program.
/// </summary>
public sealed class LxcContainerDevices : IContainerDevices
{
    public const string InfoTool = "lxc-info";
    public const string DeviceTool = "lxc-device";

    /// <summary>How long one tool may run: they take milliseconds, but a monitor that does not answer must not hang the caller.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly string? _toolDirectory;
    private readonly TimeSpan _timeout;

    /// <param name="toolDirectory">Where the tools are; null searches PATH, as a shell would.</param>
    public LxcContainerDevices(string? toolDirectory = null, TimeSpan? timeout = null)
    {
        _toolDirectory = toolDirectory;
        _timeout = timeout ?? DefaultTimeout;
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

    public void Add(string container, ContainerNode node, CancellationToken cancellation) => Device(container, "add", node, cancellation);

    public void Remove(string container, ContainerNode node, CancellationToken cancellation) => Device(container, "del", node, cancellation);

    private void Device(string container, string verb, ContainerNode node, CancellationToken cancellation)
    {
        var arguments = new[] { "-n", container, verb, node.Path };
        var run = Run(DeviceTool, arguments, container, cancellation);
        if (run.ExitCode != 0) throw ContainerErrors.ManagerFailed(ToolRun.Describe(DeviceTool, arguments), Why(run), container);
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
