using Sensor.Analysis.Rules;

namespace Sensor.Analysis.Tests.Rules;

public class EndpointEvidenceTests
{
    [Fact]
    public void Client_minutes_stay_bounded_and_keep_the_peak_when_many_clients_arrive_at_once()
    {
        var ev = new EndpointEvidence();
        for (int i = 0; i < 400; i++) ev.CountClientMinute("10.0.0.1", 1);
        // More clients in one minute than the table holds: the old minute is folded into the peak, the table stays bounded.
        for (int c = 0; c < 3 * EndpointEvidence.MaxClientMinutes; c++) ev.CountClientMinute($"10.1.{c / 250}.{c % 250}", 5);
        Assert.True(ev.ClientMinutes.Count <= EndpointEvidence.MaxClientMinutes);
        Assert.Equal(400, ev.MaxPerClientMinute);
        // A client already counted in the full minute keeps counting.
        for (int i = 0; i < 500; i++) ev.CountClientMinute("10.1.0.0", 5);
        Assert.Equal(501, ev.MaxPerClientMinute);
        // The next minute prunes again and makes room.
        ev.CountClientMinute("10.2.0.1", 7);
        Assert.True(ev.ClientMinutes.ContainsKey(("10.2.0.1", 7)));
    }
}
