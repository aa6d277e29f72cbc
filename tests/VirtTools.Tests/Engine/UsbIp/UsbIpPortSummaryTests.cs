using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class UsbIpPortSummaryTests
{
    [Fact]
    public void The_captured_ports_count_per_controller_and_hub_and_add_up_to_every_port()
    {
        var ports = new VhciReader(new SystemRoot(CapturedFixture.Shared)).GetPorts();
        var summary = UsbIpPortSummary.Of(ports);
        Assert.Equal(ports.Select(p => (p.Controller, p.Hub)).Distinct().Count(), summary.Count);
        Assert.Equal(ports.Count, summary.Sum(s => s.Ports));
        Assert.Equal(ports.Count(p => p.IsInUse), summary.Sum(s => s.InUse));
        Assert.Equal(ports.Count(p => p.IsFree), summary.Sum(s => s.Free));
        var held = Assert.Single(summary, s => s.InUse > 0);
        Assert.Equal(("vhci_hcd.0", VhciHub.SuperSpeed, 1), (held.Controller, held.Hub, held.InUse));
    }

    [Fact]
    public void Controllers_come_in_index_order_the_high_speed_hub_first()
    {
        var summary = UsbIpPortSummary.Of(new VhciReader(new SystemRoot(CapturedFixture.Shared)).GetPorts());
        var order = summary.Select(s => (s.ControllerIndex, s.Hub)).ToList();
        Assert.Equal(order.OrderBy(o => o.ControllerIndex).ThenBy(o => o.Hub), order);
        Assert.Equal(VhciHub.HighSpeed, summary[0].Hub);
    }

    [Fact]
    public void No_controller_gives_no_summary() => Assert.Empty(UsbIpPortSummary.Of(Array.Empty<UsbIpPort>()));
}
