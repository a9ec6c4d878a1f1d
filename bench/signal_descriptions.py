"""Label texts for bench_signals.py: the shared descriptions (one home: ``labeler.simulate.descriptions``) and
an AG News prompt ensemble used only by the signal benchmark."""

from labeler.simulate.descriptions import AG_NEWS, BANKING77, SMS_SPAM  # noqa: F401 - re-exported for the benches

# Extra phrasings per label for a prompt ensemble (embedding param ``label_prompts``). Chosen on 1,520
# AG News POOL rows (pool accuracy: "World: ..." alone 0.770, keyword style alone 0.783, the three averaged
# 0.806), never on the eval split.
AG_NEWS_EXTRA_PROMPTS = {
    "World": ["World: international news about politics, governments, wars, elections and diplomacy",
              "World news: Iraq, president, killed, government, minister, election, police, troops",
              "A news article about world politics, international affairs, conflicts and governments"],
    "Sports": ["Sports: news about games, teams, players, matches and tournaments",
               "Sports news: game, team, win, season, coach, players, league, Olympics",
               "A news article about sports, athletes, teams and competitions"],
    "Business": ["Business: news about companies, markets, stocks, the economy and finance",
                 "Business news: company, stocks, profit, oil prices, sales, shares, economy, deal",
                 "A news article about business, companies, markets and the economy"],
    "Sci/Tech": ["Sci/Tech: news about science, technology, computers, software, the internet and space",
                 "Science and technology news: software, Microsoft, internet, computer, space, scientists, Google",
                 "A news article about science, technology, computers and the internet"],
}
