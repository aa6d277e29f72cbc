using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.Engine.UsbIp.Containers;
using VirtTools.UsbIp.Containers;
using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// Profile attachments with <c>container:</c>: read, written back, captured from the host, compared with the ports
/// (a container's rule is served only by a port given to that container), and the agent's detaching of ports whose
/// container no longer runs.
/// </summary>
public sealed class ContainerAttachmentProfileTests : IDisposable
{
    private const string Profile =
        """
        usbip:
          attachments:
            - computerName: 127.0.0.1
              match: { busId: "2-3" }
              container: CONTAINER
        """;

    /// <summary>The captured tree's port 15 holds 2-3 from 127.0.0.1, given to desk042 (init 4242).</summary>
    private const string Record = "127.0.0.1 3240 2-3\ncontainer desk042 4242\nnode /dev/bus/usb/004/002 c 189 385\n";

    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly List<string> _log = new();

    public void Dispose() => _kernel.Dispose();

    private static VirtHostConfig Parse(string container) => VirtHostConfigParser.Parse(Profile.Replace("CONTAINER", container), "host.yaml");

    [Fact]
    public void An_attachments_container_is_read_and_written_back()
    {
        var rule = Parse("desk042").UsbIp!.Attachments.Single();
        Assert.Equal("desk042", rule.Container);
        var written = VirtHostConfigWriter.ToYaml(Parse("desk042"));
        Assert.Contains("container: \"desk042\"", written);
        Assert.Equal("desk042", VirtHostConfigParser.Parse(written, "again.yaml").UsbIp!.Attachments.Single().Container);
    }

    [Theory]
    [InlineData("\"-rf\"")]
    [InlineData("\"desk 42\"")]
    [InlineData("\"../x\"")]
    public void A_container_name_LXC_could_misread_is_a_profile_problem_at_its_position(string name)
    {
        var error = Assert.Throws<VirtToolsException>(() => Parse(name));
        Assert.Contains("host.yaml:5:", error.Message);
        Assert.Contains("the container name", error.Message);
    }

    [Fact]
    public void Export_captures_the_container_a_port_was_given_to()
    {
        _kernel.Tree.File("/run/vhci_hcd/port15", Record, newline: false);
        var yaml = VirtHostConfigWriter.ToYaml(VirtHostConfigExporter.Capture(_kernel.Root));
        Assert.Contains("container: \"desk042\"", yaml);
    }

    [Fact]
    public void A_containers_rule_is_served_only_by_a_port_given_to_that_container()
    {
        _kernel.Tree.File("/run/vhci_hcd/port15", "127.0.0.1 3240 2-3\n", newline: false);
        var sync = new VirtHostSync(_kernel.Root);
        Assert.False(sync.Test(Parse("desk042")).Single().InSync); // the host's own attachment
        _kernel.Tree.File("/run/vhci_hcd/port15", Record, newline: false);
        Assert.True(sync.Test(Parse("desk042")).Single().InSync);
        Assert.False(sync.Test(Parse("desk043")).Single().InSync);
        Assert.Contains("for container desk043", sync.Test(Parse("desk043")).Single().Item);
    }

    [Fact]
    public void DedicatedController_is_read_and_written_back_and_needs_a_container()
    {
        var yaml = Profile.Replace("CONTAINER", "desk042") + "\n      dedicatedController: true\n";
        Assert.True(VirtHostConfigParser.Parse(yaml, "host.yaml").UsbIp!.Attachments.Single().DedicatedController);
        var written = VirtHostConfigWriter.ToYaml(VirtHostConfigParser.Parse(yaml, "host.yaml"));
        Assert.Contains("dedicatedController: true", written);
        Assert.True(VirtHostConfigParser.Parse(written, "again.yaml").UsbIp!.Attachments.Single().DedicatedController);
        Assert.DoesNotContain("dedicatedController", VirtHostConfigWriter.ToYaml(Parse("desk042")));

        var hostOnly = "usbip:\n  attachments:\n    - computerName: 127.0.0.1\n      match: { busId: \"2-3\" }\n      dedicatedController: true\n";
        var error = Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse(hostOnly, "host.yaml"));
        Assert.Contains("host.yaml:5:", error.Message);
        Assert.Contains("dedicatedController keeps a container's devices on a controller of its own: it needs container", error.Message);
    }

    [Fact]
    public void Export_captures_a_dedicated_placement_and_Test_wants_one_when_the_rule_does()
    {
        var dedicatedRule = VirtHostConfigParser.Parse(Profile.Replace("CONTAINER", "desk042") + "\n      dedicatedController: true\n", "host.yaml");
        var sync = new VirtHostSync(_kernel.Root);
        _kernel.Tree.File("/run/vhci_hcd/port15", Record, newline: false); // placed anywhere
        Assert.False(sync.Test(dedicatedRule).Single().InSync);
        Assert.True(sync.Test(Parse("desk042")).Single().InSync);
        Assert.DoesNotContain("dedicatedController", VirtHostConfigWriter.ToYaml(VirtHostConfigExporter.Capture(_kernel.Root)));

        _kernel.Tree.File("/run/vhci_hcd/port15", Record.Replace("container desk042 4242", "container desk042 4242 dedicated"), newline: false);
        Assert.True(sync.Test(dedicatedRule).Single().InSync);
        Assert.True(sync.Test(Parse("desk042")).Single().InSync); // a dedicated port serves a rule that does not ask for one
        var exported = VirtHostConfigWriter.ToYaml(VirtHostConfigExporter.Capture(_kernel.Root));
        Assert.Contains("dedicatedController: true", exported);
        Assert.True(VirtHostConfigParser.Parse(exported, "exported.yaml").UsbIp!.Attachments.Single().DedicatedController);
    }

    [Fact]
    public void The_agent_takes_back_what_a_container_was_given_once_its_device_went_away_on_its_own()
    {
        _kernel.Tree.File("/run/vhci_hcd/port15", Record, newline: false);
        ContainerGrantLedger.Write(_kernel.Root, 15, VhciPortRecord.Parse(Record)!);
        var lxc = new ContainerDevicesDouble().Run("desk042", 4242);
        var agent = new VirtHostAgent(_kernel.Root, new RecordingExporter(), new RecordingAttacher(), _log.Add, containers: lxc);
        agent.Load(VirtHostConfigParser.Parse("ksm: { pagesToScan: 1000 }", "host.yaml"));
        agent.Pass();
        Assert.DoesNotContain(lxc.Calls, c => c.StartsWith("del", StringComparison.Ordinal));
        // The captured stick's disk was not in the record: a node that appeared after the attach is given.
        Assert.Contains("updated: port 15 (2-3) of desk042: given /dev/sda (appeared late)", _log);

        // The peer ends: the kernel frees the port and leaves /run/vhci_hcd as it was.
        var reader = new VhciReader(_kernel.Root);
        var port = reader.GetPorts().Single(p => p.Port == 15);
        SysfsWriter.Write(_kernel.Root, reader.GetControllers()[port.ControllerIndex].DetachPath, port.ControllerPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        agent.Pass();
        Assert.Equal(new[] { "del desk042 /dev/sda", "del desk042 /dev/bus/usb/004/002" }, lxc.Calls.Where(c => c.StartsWith("del", StringComparison.Ordinal)));
        Assert.Contains("taken back: port 15 (2-3) of desk042: the device went away; /dev/bus/usb/004/002 /dev/sda removed and denied", _log);
        Assert.Empty(ContainerGrantLedger.Read(_kernel.Root));
    }

    [Fact]
    public void The_agent_detaches_a_port_whose_container_stopped_and_keeps_one_whose_container_runs()
    {
        _kernel.Tree.File("/run/vhci_hcd/port15", Record, newline: false);
        var lxc = new ContainerDevicesDouble().Run("desk042", 4242);
        var agent = new VirtHostAgent(_kernel.Root, new RecordingExporter(), new RecordingAttacher(), _log.Add, containers: lxc);
        agent.Load(VirtHostConfigParser.Parse("ksm: { pagesToScan: 1000 }", "host.yaml"));

        agent.Pass();
        Assert.True(new VhciReader(_kernel.Root).GetPorts().Single(p => p.Port == 15).IsInUse);
        Assert.DoesNotContain(_log, l => l.StartsWith("detached:", StringComparison.Ordinal));

        lxc.Stop("desk042");
        agent.Pass();
        Assert.True(new VhciReader(_kernel.Root).GetPorts().Single(p => p.Port == 15).IsFree);
        Assert.Contains("detached: vhci_hcd.0 port 15 (2-3 from 127.0.0.1): its container desk042 no longer runs", _log);
        Assert.Null(_kernel.Tree.Read("/run/vhci_hcd/port15"));
    }

    [Fact]
    public void Without_ports_given_to_containers_the_agent_asks_the_container_manager_nothing()
    {
        var lxc = new ContainerDevicesDouble();
        var agent = new VirtHostAgent(_kernel.Root, new RecordingExporter(), new RecordingAttacher(), _log.Add, containers: lxc);
        agent.Load(VirtHostConfigParser.Parse("ksm: { pagesToScan: 1000 }", "host.yaml"));
        agent.Pass();
        Assert.Empty(lxc.Calls);
    }
}
