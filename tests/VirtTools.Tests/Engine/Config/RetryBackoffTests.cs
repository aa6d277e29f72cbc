using VirtTools.Config;
using Xunit;

namespace VirtTools.Tests.Engine.Config;

public sealed class RetryBackoffTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Delays_double_from_the_first_and_stop_at_the_limit()
    {
        var backoff = new RetryBackoff { First = TimeSpan.FromSeconds(1), Limit = TimeSpan.FromSeconds(10) };
        var delays = Enumerable.Range(0, 6).Select(_ => backoff.Failed("a", Start).TotalSeconds).ToArray();
        Assert.Equal(new double[] { 1, 2, 4, 8, 10, 10 }, delays);
    }

    [Fact]
    public void An_item_is_not_due_until_its_delay_passed()
    {
        var backoff = new RetryBackoff();
        Assert.True(backoff.IsDue("a", Start));
        backoff.Failed("a", Start);
        backoff.Failed("a", Start);
        Assert.False(backoff.IsDue("a", Start + TimeSpan.FromSeconds(1.9)));
        Assert.True(backoff.IsDue("a", Start + TimeSpan.FromSeconds(2)));
        Assert.True(backoff.IsDue("b", Start), "items back off independently");
    }

    [Fact]
    public void A_success_forgets_the_failures()
    {
        var backoff = new RetryBackoff();
        backoff.Failed("a", Start);
        backoff.Failed("a", Start);
        backoff.Succeeded("a");
        Assert.Equal(0, backoff.FailuresOf("a"));
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Failed("a", Start));
    }

    [Fact]
    public void Thousands_of_failures_never_overflow_past_the_limit()
    {
        var backoff = new RetryBackoff { Limit = TimeSpan.FromMinutes(5) };
        var last = TimeSpan.Zero;
        for (var i = 0; i < 5000; i++) last = backoff.Failed("a", Start);
        Assert.Equal(TimeSpan.FromMinutes(5), last);
    }
}
