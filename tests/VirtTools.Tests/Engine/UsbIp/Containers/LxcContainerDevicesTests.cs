using System.Diagnostics;
using VirtTools.Diagnostics;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp.Containers;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp.Containers;

/// <summary>
/// The LXC tools as LxcContainerDevices runs them, with shell scripts standing in for lxc-info and lxc-device: the
/// exact argument lists, what the tools' answers mean, their complaints in the error, and the bound on their run.
/// </summary>
public sealed class LxcContainerDevicesTests : IDisposable
{
    private readonly TemporaryTree _tools = new("lxc-tools");

    public LxcContainerDevicesTests()
    {
        // lxc-info prints what LXC 5.0.2 printed in the lab (scenario 12): labelled lines, even with -H.
        Script(LxcContainerDevices.InfoTool, """
            printf '%s\n' "$@" >> "$(dirname "$0")/calls"
            case "$2" in
              deskB) printf 'State:          RUNNING\nPID:            4242\n' ;;
              deskS) printf 'State:          STOPPED\n' ;;
              *) echo "$2 doesn't exist" >&2; exit 1 ;;
            esac
            """);
        Script(LxcContainerDevices.DeviceTool, """
            printf '%s\n' "$@" >> "$(dirname "$0")/calls"
            case "$4" in
              /dev/sdz) echo "lxc-device: deskB: tools/lxc_device.c: main: 153 Failed to add /dev/sdz to deskB" >&2; exit 1 ;;
              /dev/slow) sleep 60 ;;
            esac
            """);
        Script(LxcContainerDevices.CgroupTool, """
            printf '%s\n' "$@" >> "$(dirname "$0")/calls"
            """);
    }

    public void Dispose() => _tools.Dispose();

    private LxcContainerDevices Lxc(TimeSpan? timeout = null) => new(_tools.Path, timeout);

    private IReadOnlyList<string> Calls => (_tools.Read("/calls") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private void Script(string name, string body)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Shell scripts stand in for the LXC tools.");
        _tools.File("/" + name, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(_tools.Resolve("/" + name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void A_running_container_is_its_init_process_and_a_stopped_or_unknown_one_is_none()
    {
        Assert.Equal(4242, Lxc().FindRunning("deskB", CancellationToken.None));
        Assert.Null(Lxc().FindRunning("deskS", CancellationToken.None));
        Assert.Null(Lxc().FindRunning("nosuch", CancellationToken.None));
        Assert.Equal(new[] { "-n", "deskB", "-s", "-p" }, Calls.Take(4));
    }

    [Fact]
    public void Add_runs_lxc_device_and_remove_runs_lxc_cgroup_deny_with_the_name_and_rule_as_separate_arguments()
    {
        var node = new DeviceNode("/dev/bus/usb/004/002", false, 189, 385);
        using var container = new TemporaryTree("container-root");
        var lxc = new LxcContainerDevices(_tools.Path, containerRoot: _ => container.Path);
        lxc.Add("deskB", node, CancellationToken.None);
        lxc.Remove("deskB", 4242, node, CancellationToken.None);
        Assert.Equal(new[] { "-n", "deskB", "add", "/dev/bus/usb/004/002", "-n", "deskB", "devices.deny", "c 189:385 rwm" }, Calls);
    }

    [Fact]
    public void Remove_unlinks_the_node_under_the_root_of_the_containers_init_and_needs_no_host_node()
    {
        using var container = new TemporaryTree("container-root");
        container.File("/dev/bus/usb/004/002", "not the device"); // a regular file stays: only the device itself is removed
        var roots = new List<int>();
        var lxc = new LxcContainerDevices(_tools.Path, containerRoot: pid => { roots.Add(pid); return container.Path; });
        lxc.Remove("deskB", 4242, new DeviceNode("/dev/bus/usb/004/002", false, 189, 385), CancellationToken.None);
        Assert.Equal(new[] { 4242 }, roots);
        Assert.NotNull(container.Read("/dev/bus/usb/004/002"));
    }

    [Fact]
    public void A_failing_lxc_cgroup_is_ContainerManagerFailed_and_the_node_is_left()
    {
        Script(LxcContainerDevices.CgroupTool, "echo 'lxc-cgroup: deskB: tools/lxc_cgroup.c: main: 148 Failed to assign' >&2; exit 1");
        var error = Assert.Throws<VirtToolsException>(() => Lxc().Remove("deskB", 4242, new DeviceNode("/dev/sda", true, 8, 0), CancellationToken.None));
        Assert.Equal(ContainerErrors.ManagerFailedId, error.ErrorId);
        Assert.Contains("'lxc-cgroup -n deskB devices.deny b 8:0 rwm' failed: it exited with 1", error.Message);
    }

    [Fact]
    public void A_failing_lxc_device_is_ContainerManagerFailed_with_its_command_exit_code_and_stderr()
    {
        var error = Assert.Throws<VirtToolsException>(() => Lxc().Add("deskB", new DeviceNode("/dev/sdz", true, 8, 400), CancellationToken.None));
        Assert.Equal((ContainerErrors.ManagerFailedId, (object?)"deskB"), (error.ErrorId, error.Target));
        Assert.Contains("'lxc-device -n deskB add /dev/sdz' failed: it exited with 1: lxc-device: deskB: tools/lxc_device.c: main: 153 Failed to add /dev/sdz to deskB", error.Message);
    }

    [Fact]
    public void A_tool_that_hangs_is_stopped_at_its_deadline_and_the_error_says_so()
    {
        var waited = Stopwatch.StartNew();
        var error = Assert.Throws<VirtToolsException>(() =>
            Lxc(TimeSpan.FromMilliseconds(500)).Add("deskB", new DeviceNode("/dev/slow", false, 1, 1), CancellationToken.None));
        Assert.Equal(ContainerErrors.ManagerFailedId, error.ErrorId);
        Assert.Contains("did not finish within 0.5 seconds and was stopped", error.Message);
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the 60 s sleep was not cut short"); // generous: a loaded CI machine
    }

    [Fact]
    public void Missing_tools_are_ContainerManagerMissing_with_the_package_to_install()
    {
        using var empty = new TemporaryTree("no-lxc");
        var error = Assert.Throws<VirtToolsException>(() => new LxcContainerDevices(empty.Path).FindRunning("deskB", CancellationToken.None));
        Assert.Equal((ContainerErrors.ManagerMissingId, FailureKind.NotInstalled), (error.ErrorId, error.Kind));
        Assert.Equal("Install LXC (apt install lxc).", error.RecommendedAction);
    }

    [Fact]
    public void What_a_tool_says_is_kept_up_to_a_bound()
    {
        Script("chatty", "head -c 1000000 /dev/zero | tr '\\0' x; echo done >&2");
        var run = ToolRun.Start(_tools.Resolve("/chatty"), Array.Empty<string>(), TimeSpan.FromSeconds(30), CancellationToken.None)!;
        Assert.Equal((0, ToolRun.MaxOutputChars, "done"), (run.ExitCode, run.Output.Length, run.Error.Trim()));
    }
}
