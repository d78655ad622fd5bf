namespace :sessions do
  desc "Delete sessions that expired more than a day ago"
  task purge: :environment do
    Session.where("expires_at < ?", 1.day.ago).delete_all
  end
end

namespace :reports do
  desc "Mail the monthly sales report"
  task monthly: :environment do
    ReportMailer.monthly.deliver_now
  end
end
